/** Test fixture: make sure the lab is up; bring it down afterwards only if this run started it. */
import { labDown, labStatus, labUp } from '../../src/lab/lab.js';
import { labPaths } from '../../src/lab/paths.js';
import { LAB_HOSTS, LAB_VMS, scaleHosts, type LabHost } from '../../src/lab/topology.js';
import { stopVms } from '../../src/lab/vms.js';
import { stopAptProxy } from '../../src/lab/apt-proxy.js';
import { connectSsh, type Connection } from '../../src/connection/ssh.js';
import { sh } from '../../src/connection/shell.js';

let ready: Promise<void> | undefined;
let startedHere = false;

export function ensureLab(): Promise<void> {
  ready ??= (async () => {
    const statuses = await labStatus().catch(() => []);
    if (LAB_HOSTS.every((h) => statuses.find((s) => s.name === h.name)?.ssh)) return;
    startedHere = true;
    await labUp((line) => process.stderr.write(`      lab: ${line}\n`));
  })();
  return ready;
}

/** Called once after all tests (test/hooks.ts). */
export async function releaseLab(): Promise<void> {
  if (startedHere) await labDown((line) => process.stderr.write(`      lab: ${line}\n`));
}

export function labHost(name: string): LabHost {
  // The scale profile's light hosts too (f001..f100), whether or not they run now.
  const h = [...LAB_HOSTS, ...LAB_VMS, ...scaleHosts(100)].find((x) => x.name === name);
  if (!h) throw new Error(`no lab host ${name}`);
  return h;
}

/** An SSH connection to a lab host, verified against the lab's known_hosts (strict). */
export function connectLab(name: string, user = 'root'): Promise<Connection> {
  const paths = labPaths();
  const h = labHost(name);
  return connectSsh({
    name, address: h.address, user, privateKeyPath: paths.clientKey,
    knownHostsPath: paths.knownHosts, hostKeyPolicy: 'strict',
  });
}

/** Run one command on a lab host as root over SSH and return its stdout (throws on non-zero exit). */
export async function onHost(name: string, command: string): Promise<string> {
  const conn = await connectLab(name);
  try {
    const r = await conn.exec(sh`sh -c ${command}`);
    if (r.code !== 0) throw new Error(`${name}: '${command}' exited ${r.code}: ${r.stderr}`);
    return r.stdout;
  } finally {
    await conn.close();
  }
}

let vmsReady: Promise<void> | undefined;
let vmsStartedHere = false;

/** The VM tier too (`lab up --vms`); if it cannot start, the tests that need it fail with the reason. */
export function ensureLabVms(): Promise<void> {
  vmsReady ??= (async () => {
    await ensureLab();
    const statuses = await labStatus().catch(() => []);
    if (LAB_VMS.every((v) => statuses.find((s) => s.name === v.name)?.ssh)) return;
    vmsStartedHere = true;
    await labUp((line) => process.stderr.write(`      lab: ${line}\n`), undefined, { vms: true });
  })();
  return vmsReady;
}

/** Stop the VMs if this run started them (the containers follow releaseLab). */
export async function releaseVms(): Promise<void> {
  if (!vmsStartedHere || startedHere) return;
  const log = (line: string) => process.stderr.write(`      lab: ${line}\n`);
  await stopVms(labPaths(), LAB_VMS, log);
  await stopAptProxy(labPaths(), log);
}

/** What a seed 003 run leaves on a director (the VM tests' DR case removes it too). */
export const DR_LEFTOVERS = `for u in /etc/systemd/system/lbdeploy-address-*.service; do [ -e "$u" ] && systemctl disable --now "$(basename "$u")" >/dev/null 2>&1; rm -f "$u"; done
rm -f /etc/ipvsadm.rules; ipvsadm -C 2>/dev/null; ip addr del 198.18.0.200/24 dev ens3 2>/dev/null; true`;

/**
 * What DR leaves on a real server (seeds 002 with lb_kind DR, and 003): the lo VIPs and their boot
 * units, the ARP sysctls.
 */
export const DR_REAL_SERVER_LEFTOVERS = `for u in /etc/systemd/system/lbdeploy-address-lo-*.service; do [ -e "$u" ] && systemctl disable "$(basename "$u")" >/dev/null 2>&1; rm -f "$u"; done
ip -o addr show dev lo | awk '$4 != "127.0.0.1/8" && $4 != "::1/128" {print $4}' | while read -r a; do ip addr del "$a" dev lo; done
rm -f /etc/sysctl.d/60-lbdeploy-dr.conf; sysctl -qw net.ipv4.conf.all.arp_ignore=0 net.ipv4.conf.all.arp_announce=0; true`;
