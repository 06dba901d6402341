/**
 * A caller's own connections: listing (never tokens) and disconnecting (DESIGN flow 5: revoke at the vendor
 * where it has an endpoint, then delete). https://www.rfc-editor.org/rfc/rfc7009
 */
import pRetry from 'p-retry';
import { VendorUnavailableError } from '../errors.js';
import { NotConnectedError } from '../lifecycle/errors.js';
import { revokeTokens } from '../oauth/engine.js';
import { bindToConnection } from '../provider/resolve.js';
import { withClientSecret } from './client-secret.js';
import { type FlowDeps, integrationOf } from './deps.js';

export interface ConnectionSummary {
  integration: string;
  status: string;
  reason?: string | undefined;
  expires_at?: number | undefined;
  scopes?: string[] | undefined;
  connected_at: number;
}

export async function listConnections(deps: FlowDeps, subject: string): Promise<ConnectionSummary[]> {
  const connections = await deps.store.listBySubject(subject);
  return connections
    .filter((c) => deps.deployment.integrations.has(c.integration))
    .map((c) => ({
      integration: c.integration,
      status: c.status,
      reason: c.reason,
      expires_at: c.tokens.expiresAt,
      scopes: c.tokens.scopes,
      connected_at: c.createdAt,
    }));
}

/**
 * Grants whose stored credentials are a password pair (`Basic user:password`), not a token the vendor issued:
 * there is nothing to revoke, and a revocation request would send the password to the revocation endpoint.
 */
const NOT_REVOCABLE: ReadonlySet<string> = new Set(['user_credentials', 'static']);

/** Two more tries with full jitter before the caller hears 502/504 and nothing is deleted. */
export const REVOKE_RETRY = { retries: 2, minTimeout: 200, maxTimeout: 2_000, randomize: true } as const;

/**
 * Revokes, then deletes. A vendor that stays unreachable leaves the connection in place (502/504): deleting first
 * would leave a live grant at the vendor that we could never revoke again.
 */
export async function disconnect(
  deps: FlowDeps,
  input: { integration: string; subject: string },
  retry: { retries: number; minTimeout: number; maxTimeout: number; randomize: boolean } = REVOKE_RETRY,
): Promise<void> {
  const integration = await integrationOf(deps, input.integration);
  const key = { integration: integration.id, subject: input.subject };
  const connection = await deps.store.get(key, { consistent: true, secrets: 'all' });
  if (!connection) throw new NotConnectedError(integration.id);
  const revocable = connection.status !== 'revoked' && !NOT_REVOCABLE.has(connection.grant);
  if (revocable && integration.provider.template.endpoints.revoke) {
    const engine = { fetch: deps.fetch, timeoutMs: deps.vendorTimeoutMs, now: deps.now };
    await pRetry(
      () =>
        withClientSecret(deps.secrets, integration.id, (client) =>
          revokeTokens(
            bindToConnection(integration.provider, connection.tokens.metadata),
            connection.tokens,
            client,
            engine,
          ),
        ),
      {
        ...retry,
        // Revocation is idempotent (RFC 7009 §2.2), so an unknown outcome is safe to repeat.
        shouldRetry: ({ error }) => error instanceof VendorUnavailableError,
      },
    );
  }
  if (await deps.store.delete(key)) {
    await deps.events.publish({
      type: 'connection.disconnected',
      integration: integration.id,
      subject: input.subject,
      reason: 'user',
      time: deps.now(),
    });
  }
}
