/**
 * The service provider's own keys, held with the client credentials in the integration's secret (Secrets
 * Manager in AWS, the config file's `secret` locally), never in the deployment config:
 *
 * - `saml_signing_key` + `saml_signing_cert`: signs SP-initiated AuthnRequests (HTTP-Redirect binding); the
 *   certificate is published in the SP metadata as `use="signing"`.
 * - `saml_encryption_key` + `saml_encryption_cert`: decrypts `EncryptedAssertion`; the certificate is published
 *   as `use="encryption"`, and the IdP encrypts to it.
 *
 * Each pair is optional, but a key without its certificate (or the reverse), a value that does not parse, or a
 * certificate that does not belong to the key is a {@link ConfigError} naming the field, never its value.
 */
import { createPrivateKey, type KeyObject, type X509Certificate } from 'node:crypto';
import { ConfigError } from '../errors.js';
import type { ClientSecret } from '../oauth/client-auth.js';
import { parseCertificate } from './pki.js';

export interface SpKeyPair {
  /** PKCS#8 PEM. */
  readonly privateKey: string;
  /** PEM. */
  readonly certificate: string;
}

export interface SpKeys {
  readonly signing?: SpKeyPair | undefined;
  readonly encryption?: SpKeyPair | undefined;
}

export const SP_KEY_FIELDS = {
  signing: { key: 'saml_signing_key', cert: 'saml_signing_cert' },
  encryption: { key: 'saml_encryption_key', cert: 'saml_encryption_cert' },
} as const;

const parsed = new WeakMap<ClientSecret, SpKeys>();

function readPair(secret: ClientSecret, use: keyof typeof SP_KEY_FIELDS, integration: string) {
  const fields = SP_KEY_FIELDS[use];
  const key = secret[fields.key];
  const cert = secret[fields.cert];
  if (!key && !cert) return undefined;
  const where = `integration ${integration}: secret`;
  if (!key || !cert) {
    throw new ConfigError(`${where}: ${fields.key} and ${fields.cert} go together; one of them is missing`);
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(key);
  } catch (error) {
    throw new ConfigError(`${where}: ${fields.key}: not a PEM private key`, error);
  }
  if (privateKey.asymmetricKeyType !== 'rsa') {
    throw new ConfigError(`${where}: ${fields.key}: an RSA key is needed`);
  }
  let certificate: X509Certificate;
  try {
    certificate = parseCertificate(cert);
  } catch (error) {
    throw new ConfigError(`${where}: ${fields.cert}: not an X.509 certificate (PEM or base64 DER)`, error);
  }
  if (!certificate.checkPrivateKey(privateKey)) {
    throw new ConfigError(`${where}: ${fields.cert} is not the certificate of ${fields.key}`);
  }
  return {
    privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    certificate: certificate.toString(),
  };
}

/** The SP keys in an integration's secret (parsed once per secret object). */
export function spKeysOf(secret: ClientSecret, integration: string): SpKeys {
  let keys = parsed.get(secret);
  if (!keys) {
    keys = {
      signing: readPair(secret, 'signing', integration),
      encryption: readPair(secret, 'encryption', integration),
    };
    parsed.set(secret, keys);
  }
  return keys;
}
