/**
 * Client secrets from the local config (`integrations.<id>.secret`), for `npm start` and tests. Validated
 * once, up front, with the same rules as Secrets Manager documents.
 */
import type { ClientSecret } from '../../core/oauth/client-auth.js';
import type { SecretSource } from '../../core/ports.js';
import { SecretError } from './errors.js';
import { toClientSecret } from './parse.js';

export class LocalSecretSource implements SecretSource {
  readonly #secrets = new Map<string, ClientSecret>();

  /** `secrets`: integration id -> `{ client_id, client_secret?, ... }`, e.g. from the local config file. */
  constructor(secrets: Readonly<Record<string, unknown>>) {
    for (const [integration, value] of Object.entries(secrets)) {
      if (value === undefined) continue;
      this.#secrets.set(integration, toClientSecret(integration, value, 'local config'));
    }
  }

  /** Builds one from the local config's integrations (those with an inline `secret`). */
  static fromIntegrations(integrations: Readonly<Record<string, { secret?: unknown }>>): LocalSecretSource {
    return new LocalSecretSource(
      Object.fromEntries(Object.entries(integrations).map(([id, config]) => [id, config.secret])),
    );
  }

  /** `refresh` changes nothing: the local config is read once, at start. */
  async getClientSecret(integration: string, _options?: { refresh?: boolean }): Promise<ClientSecret> {
    const secret = this.#secrets.get(integration);
    if (!secret) throw new SecretError(integration, 'no secret in the local config');
    return secret;
  }
}
