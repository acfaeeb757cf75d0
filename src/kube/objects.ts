/**
 * Kubernetes objects as typed models (kubernetes-models: generated from the Kubernetes OpenAPI
 * schema, each model validates itself against it), rendered as YAML documents for kubectl.
 */
import { stringifyYaml } from '../yaml.js';

/** What every model of the library offers: its JSON and a validation against the schema. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata?: { name?: string; namespace?: string };
  validate(): void;
  toJSON(): unknown;
}

export const objectName = (o: KubeObject) => `${o.kind} ${o.metadata?.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata?.name ?? '?'}`;

/** Each object against the Kubernetes OpenAPI schema: one line per path that fails, naming the object. */
export function validateObjects(objects: readonly KubeObject[]): string[] {
  const problems: string[] = [];
  for (const o of objects) {
    try {
      o.validate();
    } catch (e) {
      const errors = (e as { errors?: { instancePath: string; message?: string }[] }).errors;
      problems.push(...(errors?.length ? errors.map((x) => `${objectName(o)}: ${x.instancePath || '/'} ${x.message ?? 'is invalid'}`) : [`${objectName(o)}: ${(e as Error).message}`]));
    }
  }
  return problems;
}

/** One YAML document per object, each under a comment saying who manages it. */
export function renderObjects(objects: readonly KubeObject[], source: string): string[] {
  return objects.map((o) => `# Managed by lbdeploy (${source})\n${stringifyYaml(o.toJSON(), { lineWidth: 0 })}`);
}
