/**
 * What one integration's SAML ACS trusts: the pinned IdP certificate(s), the IdP entity ID, our SP entity ID
 * (the Audience) and the ACS URL (Destination and Recipient). Validated once per config object; a bad
 * certificate is a {@link ConfigError}, never a 400 to the poster.
 */
import { X509Certificate } from 'node:crypto';
import { z } from 'zod';
import { samlConfigSchema } from '../config/schema.js';
import { ConfigError } from '../errors.js';

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

const acsUrl = z
  .string()
  .url()
  .refine((value) => {
    const url = new URL(value);
    return url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK.has(url.hostname));
  }, 'https (http only on loopback)');

/** The per-integration settings (from the deployment config) plus the ACS URL the handler serves. */
export const samlIntegrationConfigSchema = samlConfigSchema.extend({
  /** Expected Destination of the Response and Recipient of the bearer SubjectConfirmationData. */
  acsUrl,
});

export type SamlIntegrationConfig = z.input<typeof samlIntegrationConfigSchema>;

/** A config whose certificates parsed, each normalised to PEM. */
export interface CheckedSamlConfig {
  readonly idpCerts: readonly string[];
  readonly idpIssuer: string;
  readonly spEntityId: string;
  readonly acsUrl: string;
  readonly subjectAttribute: string | undefined;
}

const PEM_CERT = /^-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----\s*$/;

/** PEM or base64 DER -> PEM, through node's X.509 parser so a truncated or non-certificate value fails here. */
function certificateToPem(value: string, index: number, integration: string): string {
  const trimmed = value.trim();
  try {
    const cert = PEM_CERT.test(trimmed)
      ? new X509Certificate(trimmed)
      : new X509Certificate(Buffer.from(trimmed.replace(/\s+/g, ''), 'base64'));
    return cert.toString();
  } catch (error) {
    throw new ConfigError(
      `integration ${integration}: saml.idpCert[${index}]: not an X.509 certificate (PEM or base64 DER)`,
      error,
    );
  }
}

/**
 * Checked configs by value (callers build a fresh object per request, adding the ACS URL), so a warm Lambda
 * parses certificates and builds its node-saml instance once. Bounded: a deployment has few integrations.
 */
const checked = new Map<string, CheckedSamlConfig>();
const CACHE_LIMIT = 64;

/** Validates `config`; a {@link ConfigError} names the integration and the offending key. */
export function checkSamlConfig(config: SamlIntegrationConfig, integration: string): CheckedSamlConfig {
  const key = JSON.stringify([integration, config]);
  const cached = checked.get(key);
  if (cached) return cached;
  const parsed = samlIntegrationConfigSchema.safeParse(config);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? issue.path.join('.') : '$';
    throw new ConfigError(
      `integration ${integration}: saml.${where}: ${issue?.message ?? 'invalid'}`,
      parsed.error,
    );
  }
  const certs = Array.isArray(parsed.data.idpCert) ? parsed.data.idpCert : [parsed.data.idpCert];
  const result: CheckedSamlConfig = {
    idpCerts: certs.map((cert, index) => certificateToPem(cert, index, integration)),
    idpIssuer: parsed.data.idpIssuer,
    spEntityId: parsed.data.spEntityId,
    acsUrl: parsed.data.acsUrl,
    subjectAttribute: parsed.data.subjectAttribute,
  };
  if (checked.size >= CACHE_LIMIT) checked.clear();
  checked.set(key, result);
  return result;
}
