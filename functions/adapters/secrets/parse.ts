/** Validation of a client-secret document: `{"client_id": "...", "client_secret"?: "...", ...string extras}`. */
import { z } from 'zod';
import type { ClientSecret } from '../../core/oauth/client-auth.js';
import { SecretError } from './errors.js';

const clientSecretSchema = z
  .object({
    client_id: z.string().min(1),
    client_secret: z.string().min(1).optional(),
  })
  .catchall(z.string());

/**
 * Validates `value` (already parsed JSON or a plain object) as a ClientSecret. Problems are reported by path
 * and expected type only: zod issues are not attached, so no value can leak through them.
 */
export function toClientSecret(integration: string, value: unknown, where: string): ClientSecret {
  const result = clientSecretSchema.safeParse(value);
  if (result.success) return Object.freeze(result.data) as ClientSecret;
  const problems = result.error.issues.map((issue) => {
    const path = issue.path.length ? issue.path.join('.') : '$';
    if (issue.code === 'invalid_type') return `${path}: expected ${issue.expected}`;
    if (issue.code === 'too_small') return `${path}: must not be empty`;
    return `${path}: ${issue.code}`;
  });
  throw new SecretError(integration, `${where}: ${problems.join('; ')}`);
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
