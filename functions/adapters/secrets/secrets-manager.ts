/**
 * Client secrets from AWS Secrets Manager, cached per container. Reads ask for `AWSCURRENT` explicitly (after a
 * rotation the default is not always the new version, e.g. on moto). `{ refresh: true }` (after the vendor
 * answered invalid_client) bypasses the cache once; concurrent callers share one in-flight read.
 * https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotating-secrets.html
 */
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { ClientSecret } from '../../core/oauth/client-auth.js';
import type { SecretSource } from '../../core/ports.js';
import { SecretError } from './errors.js';
import { parseSecretString } from './parse.js';

export interface SecretsManagerSecretSourceOptions {
  client: SecretsManagerClient;
  /** Secret id (name or ARN) per integration: a map, or a function returning undefined for unknown ones. */
  secretIds: Readonly<Record<string, string>> | ((integration: string) => string | undefined);
  /** How long a read is reused. Default 300 s: a rotation is seen within this, or at once via `refresh`. */
  ttlSeconds?: number;
  /** Milliseconds clock; injected by tests. */
  now?: () => number;
}

interface Cached {
  value: ClientSecret;
  expiresAt: number;
}

export class SecretsManagerSecretSource implements SecretSource {
  readonly #client: SecretsManagerClient;
  readonly #secretId: (integration: string) => string | undefined;
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #cache = new Map<string, Cached>();
  readonly #inFlight = new Map<string, Promise<ClientSecret>>();

  constructor(options: SecretsManagerSecretSourceOptions) {
    this.#client = options.client;
    const ids = options.secretIds;
    this.#secretId =
      typeof ids === 'function'
        ? ids
        : (integration) => (Object.hasOwn(ids, integration) ? ids[integration] : undefined);
    this.#ttlMs = (options.ttlSeconds ?? 300) * 1000;
    this.#now = options.now ?? Date.now;
  }

  async getClientSecret(integration: string, options: { refresh?: boolean } = {}): Promise<ClientSecret> {
    if (!options.refresh) {
      const cached = this.#cache.get(integration);
      if (cached && cached.expiresAt > this.#now()) return cached.value;
    }
    // A read already under way is at least as fresh as one we would start now.
    const pending = this.#inFlight.get(integration);
    if (pending) return pending;
    const read = this.#read(integration).finally(() => this.#inFlight.delete(integration));
    this.#inFlight.set(integration, read);
    return read;
  }

  async #read(integration: string): Promise<ClientSecret> {
    const secretId = this.#secretId(integration);
    if (!secretId) throw new SecretError(integration, 'no secret id is configured');
    let secretString: string | undefined;
    try {
      const out = await this.#client.send(
        new GetSecretValueCommand({ SecretId: secretId, VersionStage: 'AWSCURRENT' }),
      );
      secretString = out.SecretString;
    } catch (error) {
      const name = (error as { name?: unknown }).name;
      const problem =
        name === 'ResourceNotFoundException'
          ? `secret ${secretId} (AWSCURRENT) not found`
          : `cannot read secret ${secretId}${typeof name === 'string' ? ` (${name})` : ''}`;
      // SDK errors describe the request, never the secret value.
      throw new SecretError(integration, problem, error);
    }
    if (secretString === undefined) {
      throw new SecretError(
        integration,
        `secret ${secretId} has no SecretString (binary secrets are not supported)`,
      );
    }
    const value = parseSecretString(integration, secretString, `secret ${secretId}`);
    this.#cache.set(integration, { value, expiresAt: this.#now() + this.#ttlMs });
    return value;
  }
}
