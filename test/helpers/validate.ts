/** The real validators (keepalived -t, haproxy -c, nginx -t) on rendered text, on this machine. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function need(cmd: string): void {
  if (spawnSync('sh', ['-c', `command -v ${cmd}`]).status !== 0) {
    throw new Error(`${cmd} is not installed on this machine: .ci/run installs it (apt-get install haproxy keepalived nginx-light)`);
  }
}

function withFile<T>(name: string, text: string, fn: (path: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'lbd-validate-'));
  try {
    const p = join(dir, name);
    writeFileSync(p, text);
    return fn(p);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A non-loopback interface of this machine (keepalived refuses lo for VRRP). */
function localInterface(): string {
  const names = readdirSync('/sys/class/net').filter((n) => n !== 'lo').sort();
  const name = names.includes('eth0') ? 'eth0' : names[0];
  if (!name) throw new Error('this machine has no network interface but lo: keepalived -t cannot check a VRRP instance');
  return name;
}

export interface Verdict {
  ok: boolean;
  output: string;
}

/**
 * keepalived -t checks against the machine it runs on: a check script that does not exist here is
 * refused by script security, an interface that does not exist here is an error. So the script path
 * becomes /bin/true and the interface this machine's loopback; every other line is checked as rendered.
 */
export function keepalivedCheck(text: string): Verdict {
  need('keepalived');
  const conf = text
    .replace(/script "\/etc\/keepalived\/[^ "]+/g, 'script "/bin/true')
    .replace(/^(\s*interface) \S+$/gm, `$1 ${localInterface()}`)
    .replace(/ dev \S+/g, ` dev ${localInterface()}`);
  return withFile('keepalived.conf', conf, (p) => {
    const r = spawnSync('keepalived', ['-t', '-f', p], { encoding: 'utf8' });
    return { ok: r.status === 0, output: r.stdout + r.stderr };
  });
}

export function haproxyCheck(text: string): Verdict {
  need('haproxy');
  return withFile('haproxy.cfg', text, (p) => {
    const r = spawnSync('haproxy', ['-c', '-q', '-f', p], { encoding: 'utf8' });
    return { ok: r.status === 0, output: r.stdout + r.stderr };
  });
}

/** nginx -t on a main config that includes only the snippet (as the playbook's validate does). */
export function nginxSnippetCheck(text: string): Verdict {
  need('nginx');
  return withFile('site.conf', text, (p) => {
    const main = `${p}.main`;
    writeFileSync(main, `events {}\nhttp {\ninclude ${p};\n}\n`);
    const r = spawnSync('nginx', ['-t', '-q', '-c', main, '-e', '/dev/null', '-g', `pid ${p}.pid;`], { encoding: 'utf8' });
    return { ok: r.status === 0, output: r.stdout + r.stderr };
  });
}
