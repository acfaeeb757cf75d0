export async function runFailover(_a: string[]): Promise<number> { return 1; }
