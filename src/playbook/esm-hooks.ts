/**
 * Module hooks registered when an operator's .ts playbook is loaded: a .ts file outside
 * node_modules is loaded as an ES module whatever the operator's package.json says. In a CommonJS
 * project (`npm init -y`), tsx would otherwise compile the playbook to CommonJS, whose
 * `require('lbdeploy')` loads a second copy of lbdeploy beside the engine's.
 */
interface Resolved {
  url: string;
  format?: string | null;
}
type NextResolve = (specifier: string, context: unknown) => Promise<Resolved>;

export async function resolve(specifier: string, context: unknown, next: NextResolve): Promise<Resolved> {
  const r = await next(specifier, context);
  if (r.url.startsWith('file:') && /\.tsx?(\?|$)/.test(r.url) && !r.url.includes('/node_modules/')) return { ...r, format: 'module' };
  return r;
}
