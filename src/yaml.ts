/** The one door to the yaml library: parsing with positions (inventories, kubeconfigs) and stable output (manifests, alive.yaml). */
export { isMap, isScalar, isSeq, LineCounter, parse as parseYaml, parseDocument, stringify as stringifyYaml } from 'yaml';
export type { Document, Node, Pair, YAMLMap } from 'yaml';
