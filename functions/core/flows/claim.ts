/**
 * Claiming a finished browser flow (DESIGN flow 1, last step): the callback parked the tokens under a one-time
 * claim code and sent the browser back to the app with it; the app claims with its own user JWT. The parked
 * record is consumed atomically, and only the subject that started the flow gets the connection. Anyone else
 * presenting the code (the person who signed in at the vendor from a link somebody sent them, RFC 6749 §10.12,
 * RFC 9700 §4.7) makes us discard the tokens and revoke them at the vendor: a sign-in finished in someone
 * else's session never attaches that person's vendor account to the sender.
 */
import pRetry from 'p-retry';
import type { Integration } from '../config/deployment.js';
import { InvalidRequestError, TokenvendError, VendorUnavailableError } from '../errors.js';
import type { ParkedConnectionStore } from '../lifecycle/store.js';
import { revokeTokens } from '../oauth/engine.js';
import { bindToConnection } from '../provider/resolve.js';
import type { TokenSet } from '../token-set.js';
import { withClientSecret } from './client-secret.js';
import { REVOKE_RETRY } from './connections.js';
import { type FlowDeps, integrationOf } from './deps.js';

/** The flows a browser takes part in: the usual dependencies plus where finished flows wait to be claimed. */
export interface BrowserFlowDeps extends FlowDeps {
  parked: ParkedConnectionStore;
}

/** Longest claim code we look up (ours are 43 characters). */
const MAX_CLAIM_LENGTH = 256;

/**
 * 403 `access_denied`: the code was claimed by another subject than the one that started the flow. The parked
 * tokens are gone; `revoked` tells whether the vendor confirmed their revocation (the handler logs a failure).
 */
export class ClaimRefusedError extends TokenvendError {
  readonly revoked: boolean;

  constructor(revoked: boolean) {
    super(
      'this connection was started by another user: it was discarded, and its tokens revoked where the vendor supports it',
      { error: 'access_denied', status: 403 },
    );
    this.revoked = revoked;
  }
}

/**
 * Revokes tokens nobody will store (a refused claim, a late or refused callback). Never throws: false when
 * the provider cannot revoke or the vendor stayed unreachable.
 */
export async function discardTokens(
  deps: Pick<FlowDeps, 'secrets' | 'fetch' | 'vendorTimeoutMs' | 'now'>,
  integration: Integration,
  tokens: TokenSet,
  retry: { retries: number; minTimeout: number; maxTimeout: number; randomize: boolean } = REVOKE_RETRY,
): Promise<boolean> {
  const engine = { fetch: deps.fetch, timeoutMs: deps.vendorTimeoutMs, now: deps.now };
  try {
    return await pRetry(
      () =>
        withClientSecret(deps.secrets, integration.id, (client) =>
          revokeTokens(bindToConnection(integration.provider, tokens.metadata), tokens, client, engine),
        ),
      // Revocation is idempotent (RFC 7009 §2.2), so an unknown outcome is safe to repeat.
      { ...retry, shouldRetry: ({ error }) => error instanceof VendorUnavailableError },
    );
  } catch {
    return false;
  }
}

export interface ClaimInput {
  integration: string;
  /** The verified caller's subject. */
  subject: string;
  claim: unknown;
}

export async function claimConnection(
  deps: BrowserFlowDeps,
  input: ClaimInput,
): Promise<{ integration: string }> {
  const integration = await integrationOf(deps, input.integration);
  const claim = input.claim;
  if (typeof claim !== 'string' || claim === '' || claim.length > MAX_CLAIM_LENGTH) {
    throw new InvalidRequestError('claim must be the claim code from the return URL');
  }
  const found = await deps.parked.consume(claim, integration.id, deps.now());
  if (!found)
    throw new InvalidRequestError('unknown, expired or already used claim code', { error: 'invalid_grant' });
  const { parked, expired } = found;
  if (expired) {
    // Past its TTL but not yet deleted by DynamoDB: gone now; its tokens are revoked rather than left live.
    await discardTokens(deps, integration, parked.tokens);
    throw new InvalidRequestError('unknown, expired or already used claim code', { error: 'invalid_grant' });
  }
  if (parked.subject !== input.subject) {
    throw new ClaimRefusedError(await discardTokens(deps, integration, parked.tokens));
  }
  await deps.lifecycle.storeNewConnection(integration, {
    subject: parked.subject,
    grant: parked.grant,
    tokens: parked.tokens,
  });
  return { integration: integration.id };
}
