/** Certificates and URLs as the SAML config accepts them. */
import { X509Certificate } from 'node:crypto';

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

const PEM_CERT = /^-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----\s*$/;

/** PEM or base64 DER -> the parsed certificate; throws for anything that is not an X.509 certificate. */
export function parseCertificate(value: string): X509Certificate {
  const trimmed = value.trim();
  return PEM_CERT.test(trimmed)
    ? new X509Certificate(trimmed)
    : new X509Certificate(Buffer.from(trimmed.replace(/\s+/g, ''), 'base64'));
}

/** An https URL, or (unless `allowLoopback` is false) http on loopback (local mode and tests). */
export function isSecureUrl(value: unknown, allowLoopback = true): value is string {
  if (typeof value !== 'string' || !URL.canParse(value)) return false;
  const url = new URL(value);
  return (
    url.protocol === 'https:' || (allowLoopback && url.protocol === 'http:' && LOOPBACK.has(url.hostname))
  );
}
