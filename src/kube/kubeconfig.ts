/** kubeconfig files: read the parts lbdeploy needs, and rewrite the server URL keeping everything else. */
import { parseDocument, isMap, isSeq, type YAMLMap } from '../yaml.js';

export interface KubeconfigInfo {
  server: string;
  caData?: string;
  clientCertData?: string;
  clientKeyData?: string;
  context: string;
  user: string;
  cluster: string;
}

export class KubeconfigError extends Error {}

function named(doc: ReturnType<typeof parseDocument>, list: string, name: string): YAMLMap | undefined {
  const seq = doc.get(list, true);
  if (!isSeq(seq)) return undefined;
  return seq.items.find((i): i is YAMLMap => isMap(i) && i.get('name') === name);
}

/** The current context's cluster server, CA and user credentials. */
export function readKubeconfig(text: string): KubeconfigInfo {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) throw new KubeconfigError(`not valid YAML: ${doc.errors[0]!.message.split('\n')[0]}`);
  const contextName = String(doc.get('current-context') ?? '');
  const ctx = named(doc, 'contexts', contextName)?.get('context') as YAMLMap | undefined;
  if (!ctx) throw new KubeconfigError(`current-context '${contextName}' is not in contexts`);
  const clusterName = String(ctx.get('cluster') ?? '');
  const userName = String(ctx.get('user') ?? '');
  const cluster = named(doc, 'clusters', clusterName)?.get('cluster') as YAMLMap | undefined;
  const user = named(doc, 'users', userName)?.get('user') as YAMLMap | undefined;
  if (!cluster) throw new KubeconfigError(`cluster '${clusterName}' is not in clusters`);
  if (!user) throw new KubeconfigError(`user '${userName}' is not in users`);
  const str = (m: YAMLMap, k: string) => (m.get(k) === undefined ? undefined : String(m.get(k)));
  const server = str(cluster, 'server');
  if (!server) throw new KubeconfigError(`cluster '${clusterName}' has no server`);
  return {
    server, caData: str(cluster, 'certificate-authority-data'), clientCertData: str(user, 'client-certificate-data'),
    clientKeyData: str(user, 'client-key-data'), context: contextName, user: userName, cluster: clusterName,
  };
}

/** The same kubeconfig with the current context's cluster pointing at `server`. */
/** The API server URL of a master: an IPv6 address goes in brackets (RFC 3986), or the port would read as part of it. */
export function apiServerUrl(address: string, port: number): string {
  return `https://${address.includes(':') ? `[${address}]` : address}:${port}`;
}

export function withServer(text: string, server: string): string {
  const doc = parseDocument(text);
  const info = readKubeconfig(text);
  const cluster = named(doc, 'clusters', info.cluster)!.get('cluster') as YAMLMap;
  cluster.set('server', server);
  return doc.toString({ lineWidth: 0, indentSeq: false });
}

export function decodeData(b64: string | undefined): string | undefined {
  return b64 === undefined ? undefined : Buffer.from(b64, 'base64').toString('utf8');
}
