/**
 * The deployment kinds lbdeploy knows. Adding one: a folder under src/kinds/ with its playbook,
 * model and checks, a `kind.ts` exporting a Kind, and one line here.
 */
import type { Playbook } from '../playbook/define.js';
import { loadPlaybook as loadFrom, type BundledPlaybooks } from '../playbook/load.js';
import { baseline } from './baseline/kind.js';
import { haproxyKeepalived } from './haproxy-keepalived/kind.js';
import { ipvsDr } from './ipvs-dr/kind.js';
import { ipvsKeepalived } from './ipvs-keepalived/kind.js';
import { kubeKeepalivedVip } from './kube-keepalived-vip/kind.js';
import { kubeconfig } from './kubeconfig/kind.js';
import type { Kind } from './types.js';

export const KINDS: readonly Kind[] = [baseline, haproxyKeepalived, kubeconfig, ipvsKeepalived, ipvsDr, kubeKeepalivedVip];

export function kindNamed(name: string): Kind | undefined {
  return KINDS.find((k) => k.name === name);
}

/** The kind a playbook declares (`kind`), else the kind it is the playbook of, else the kind named like it. */
export function kindOf(pb: Playbook): Kind | undefined {
  return pb.kind !== undefined ? kindNamed(pb.kind) : KINDS.find((k) => k.playbook === pb) ?? kindNamed(pb.name);
}

/** A bundled kind's playbook by kind name (the thin entry points in playbooks/ use it). */
export function kindPlaybook(name: string): Playbook {
  const pb = kindNamed(name)?.playbook;
  if (!pb) throw new Error(`lbdeploy: no deployment kind named '${name}'`);
  return pb;
}

/** The kinds' playbooks by kind name, as the playbook loader asks for them. */
export const BUNDLED_PLAYBOOKS: BundledPlaybooks = {
  named: (name) => kindNamed(name)?.playbook,
  names: () => KINDS.map((k) => k.name).sort(),
};

/** A playbook by kind name or by path (see playbook/load.ts), the registry handed down. */
export function loadPlaybook(ref: string, baseDir: string, where?: string): Promise<Playbook> {
  return loadFrom(ref, baseDir, BUNDLED_PLAYBOOKS, where);
}
