/**
 * Runs a vendor call with the integration's client credentials; when the vendor answers invalid_client, the
 * secret may just have been rotated in Secrets Manager: read it once more, past the cache, and try once more.
 * Safe for every flow here: a token endpoint checks client authentication before it consumes a code,
 * an assertion or a refresh token.
 */
import { InvalidClientError } from '../errors.js';
import type { ClientSecret } from '../oauth/client-auth.js';
import type { SecretSource } from '../ports.js';

export async function withClientSecret<T>(
  secrets: SecretSource,
  integration: string,
  call: (client: ClientSecret) => Promise<T>,
): Promise<T> {
  const client = await secrets.getClientSecret(integration);
  try {
    return await call(client);
  } catch (error) {
    if (!(error instanceof InvalidClientError)) throw error;
    return call(await secrets.getClientSecret(integration, { refresh: true }));
  }
}
