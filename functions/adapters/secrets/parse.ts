/**
 * Validation of a client-secret document: `{"client_id": "...", "client_secret"?: "...", ...string extras}`.
 * Checked by hand (it is read on the request path: no schema library in the Lambda bundles).
 */
import type { ClientSecret } from '../../core/oauth/client-auth.js';
import { SecretError } from './errors.js';

/**
 * Validates `value` (already parsed JSON or a plain object) as a ClientSecret. Problems are reported by path
 * and expected type only, so no value can leak through them.
 */
export function toClientSecret(integration: string, value: unknown, where: string): ClientSecret {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new SecretError(integration, `${where}: $: expected object`);
  }
  const record = value as Record<string, unknown>;
  const problems: string[] = [];
  const check = (key: string, required: boolean) => {
    const field = record[key];
    if (field === undefined && !required) return;
    if (typeof field !== 'string') problems.push(`${key}: expected string`);
    else if (field.length === 0 && (key === 'client_id' || key === 'client_secret'))
      problems.push(`${key}: must not be empty`);
  };
  check('client_id', true);
  check('client_secret', false);
  for (const key of Object.keys(record)) {
    if (key !== 'client_id' && key !== 'client_secret') check(key, true);
  }
  if (problems.length > 0) throw new SecretError(integration, `${where}: ${problems.join('; ')}`);
  return Object.freeze(Object.fromEntries(Object.entries(record))) as ClientSecret;
}

/** Parses a secret string as JSON without letting the parser's message (which quotes the input) escape. */
export function parseSecretString(integration: string, text: string, where: string): ClientSecret {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new SecretError(integration, `${where}: SecretString is not JSON`);
  }
  return toClientSecret(integration, value, where);
}
