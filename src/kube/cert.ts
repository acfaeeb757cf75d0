/** X.509 certificate facts with node:crypto: subject, validity, days left. */
import { X509Certificate } from 'node:crypto';

export interface CertInfo {
  subject: string;
  issuer: string;
  serial: string;
  fingerprint256: string;
  notBefore: string;
  notAfter: string;
  daysLeft: number;
  state: 'valid' | 'expired' | 'not-yet-valid';
}

export function certInfo(pem: string, now = Date.now()): CertInfo {
  const x = new X509Certificate(pem);
  const from = Date.parse(x.validFrom);
  const to = Date.parse(x.validTo);
  return {
    subject: x.subject.split('\n').join(', '),
    issuer: x.issuer.split('\n').join(', '),
    serial: x.serialNumber,
    fingerprint256: x.fingerprint256,
    notBefore: new Date(from).toISOString(),
    notAfter: new Date(to).toISOString(),
    daysLeft: Math.floor((to - now) / 86_400_000),
    state: now < from ? 'not-yet-valid' : now > to ? 'expired' : 'valid',
  };
}
