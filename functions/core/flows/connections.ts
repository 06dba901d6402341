/**
 * A caller's own connections: listing (never tokens) and disconnecting (DESIGN flow 5: revoke at the vendor
 * where it has an endpoint, then delete). https://www.rfc-editor.org/rfc/rfc7009
 */
import { VendorUnavailableError } from '../errors.js';
import { NotConnectedError } from '../lifecycle/errors.js';
import { revokeTokens } from '../oauth/engine.js';
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

const REVOKE_ATTEMPTS = 3;

/**
 * Revokes, then deletes. A vendor that stays unreachable leaves the connection in place (503): deleting first
 * would leave a live grant at the vendor that we could never revoke again.
 */
export async function disconnect(
  deps: FlowDeps,
  input: { integration: string; subject: string },
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
): Promise<void> {
  const integration = integrationOf(deps, input.integration);
  const key = { integration: integration.id, subject: input.subject };
  const connection = await deps.store.get(key, { consistent: true, secrets: 'all' });
  if (!connection) throw new NotConnectedError(integration.id);
  if (connection.status !== 'revoked' && integration.provider.template.endpoints.revoke) {
    const client = await deps.secrets.getClientSecret(integration.id);
    for (let attempt = 1; ; attempt++) {
      try {
        await revokeTokens(integration.provider, connection.tokens, client, {
          fetch: deps.fetch,
          timeoutMs: deps.vendorTimeoutMs,
          now: deps.now,
        });
        break;
      } catch (error) {
        if (!(error instanceof VendorUnavailableError) || attempt >= REVOKE_ATTEMPTS) throw error;
        await sleep(Math.random() * 200 * 2 ** attempt);
      }
    }
  }
  await deps.store.delete(key);
}
