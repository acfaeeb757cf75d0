import { strict as assert } from 'node:assert';
import { certInfo } from '../../../src/kube/cert.js';
import { apiServerUrl, decodeData, KubeconfigError, readKubeconfig, withServer } from '../../../src/kube/kubeconfig.js';
import { adminKubeconfig } from '../../../src/lab/pki.js';
import { withPki } from '../../helpers/certs.js';

describe('kubeconfig and certificates', () => {
  let conf = '';
  let certPem = '';
  before(async function () {
    this.timeout(20_000);
    await withPki(async (pki) => {
      await pki.ensureCa();
      const [crt, key] = await pki.adminCert({ notBeforeDays: -1, notAfterDays: 90 });
      certPem = crt;
      conf = adminKubeconfig('https://master1:6443', pki.read('ca.crt'), crt, key);
    });
  });

  it('reads the current context\'s server, CA and credentials', () => {
    const k = readKubeconfig(conf);
    assert.equal(k.server, 'https://master1:6443');
    assert.equal(k.user, 'kubernetes-admin');
    assert.equal(decodeData(k.clientCertData), certPem);
    assert.match(decodeData(k.clientKeyData) ?? '', /BEGIN PRIVATE KEY/);
  });

  it('rewrites only the server URL', () => {
    const out = withServer(conf, 'https://198.18.0.41:6443');
    assert.equal(readKubeconfig(out).server, 'https://198.18.0.41:6443');
    assert.equal(out.replace('https://198.18.0.41:6443', 'https://master1:6443'), conf);
  });

  const broken: [string, string, RegExp][] = [
    ['no current context', conf, /current-context/],
    ['not YAML', 'a: [b', /not valid YAML/],
  ];
  const URLS: [string, number, string][] = [
    ['198.18.0.41', 6443, 'https://198.18.0.41:6443'],
    ['2001:2::41', 6443, 'https://[2001:2::41]:6443'],
    ['master1.example', 443, 'https://master1.example:443'],
  ];
  for (const [address, port, url] of URLS) {
    it(`the API server URL of ${address}: ${url}`, () => assert.equal(apiServerUrl(address, port), url));
  }

  it('says what is wrong with a broken kubeconfig', () => {
    for (const [, text, re] of [['missing context', conf.replace(/current-context: .*/, 'current-context: nope'), /current-context 'nope' is not in contexts/] as const, ...broken.slice(1)]) {
      assert.throws(() => readKubeconfig(text), (e: unknown) => e instanceof KubeconfigError && re.test((e as Error).message));
    }
  });

  it('reads subject, validity and days left from a certificate', () => {
    const c = certInfo(certPem);
    assert.match(c.subject, /CN=kubernetes-admin/);
    assert.match(c.subject, /O=system:masters/);
    assert.equal(c.state, 'valid');
    assert.ok(c.daysLeft === 89 || c.daysLeft === 90, String(c.daysLeft));
    assert.equal(certInfo(certPem, Date.parse(c.notAfter) + 1000).state, 'expired');
    assert.equal(certInfo(certPem, Date.parse(c.notBefore) - 1000).state, 'not-yet-valid');
  });
});
