/**
 * The lab's Kubernetes PKI, made with openssl on this machine: a cluster CA, a serving certificate
 * per master (SANs with its address and names), and the admin client certificate behind
 * /etc/kubernetes/admin.conf, which `lab renew-certs` re-issues (also already expired, or about to).
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { $ } from '../shell-local.js';

export interface Validity {
  /** Days from now (negative: in the past). */
  notBeforeDays: number;
  notAfterDays: number;
}

const CA_CONF = `[ ca ]
default_ca = lab
[ lab ]
database = index.txt
new_certs_dir = issued
certificate = ca.crt
private_key = ca.key
serial = serial
default_md = sha256
policy = anything
copy_extensions = copy
unique_subject = no
[ anything ]
commonName = supplied
organizationName = optional
`;

function asn1Time(daysFromNow: number): string {
  const d = new Date(Date.now() + daysFromNow * 86_400_000);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`;
}

export class LabPki {
  constructor(readonly dir: string) {}

  private path(name: string): string {
    return join(this.dir, name);
  }

  read(name: string): string {
    return readFileSync(this.path(name), 'utf8');
  }

  async ensureCa(): Promise<void> {
    if (existsSync(this.path('ca.crt'))) return;
    mkdirSync(join(this.dir, 'issued'), { recursive: true, mode: 0o700 });
    writeFileSync(this.path('ca.cnf'), CA_CONF);
    writeFileSync(this.path('index.txt'), '');
    writeFileSync(this.path('serial'), '1000\n');
    await $({ cwd: this.dir })`openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key -out ca.crt -days 3650 -subj /CN=kubernetes -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign`.quiet();
  }

  /** Issue a key and certificate signed by the CA; returns [certPem, keyPem]. */
  async issue(name: string, subject: string, ext: string, v: Validity): Promise<[string, string]> {
    await this.ensureCa();
    const extFile = `${name}.ext`;
    writeFileSync(this.path(extFile), `[ ext ]\n${ext}\n`);
    await $({ cwd: this.dir })`openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ${name + '.key'}`.quiet();
    await $({ cwd: this.dir })`openssl req -new -key ${name + '.key'} -subj ${subject} -out ${name + '.csr'}`.quiet();
    rmSync(this.path(`${name}.crt`), { force: true });
    await $({ cwd: this.dir })`openssl ca -batch -notext -config ca.cnf -in ${name + '.csr'} -out ${name + '.crt'} -startdate ${asn1Time(v.notBeforeDays)} -enddate ${asn1Time(v.notAfterDays)} -extfile ${extFile} -extensions ext`.quiet();
    return [this.read(`${name}.crt`), this.read(`${name}.key`)];
  }

  /** The admin client certificate (kubeadm's kubernetes-admin in system:masters). */
  async adminCert(v: Validity): Promise<[string, string]> {
    return this.issue('admin', '/O=system:masters/CN=kubernetes-admin', 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth', v);
  }

  async currentAdmin(): Promise<[string, string]> {
    if (existsSync(this.path('admin.crt'))) return [this.read('admin.crt'), this.read('admin.key')];
    return this.adminCert({ notBeforeDays: -1, notAfterDays: 365 });
  }
}

/** /etc/kubernetes/admin.conf as kubeadm writes it, pointing at the master itself. */
export function adminKubeconfig(server: string, caPem: string, certPem: string, keyPem: string): string {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  return `apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: ${b64(caPem)}
    server: ${server}
  name: kubernetes
contexts:
- context:
    cluster: kubernetes
    user: kubernetes-admin
  name: kubernetes-admin@kubernetes
current-context: kubernetes-admin@kubernetes
kind: Config
preferences: {}
users:
- name: kubernetes-admin
  user:
    client-certificate-data: ${b64(certPem)}
    client-key-data: ${b64(keyPem)}
`;
}
