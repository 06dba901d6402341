/**
 * When a connection's access token should be refreshed, from the provider's refresh policy: a margin
 * before expiry or a fraction of the lifetime (Finesse 75%), never sooner than the minimum interval (Webex).
 */
import type { RefreshPolicy } from './provider/schema.js';
import type { TokenSet } from './token-set.js';

/** Epoch seconds at which `tokens` are due for refresh; undefined when they never expire. */
export function refreshDueAt(
  policy: RefreshPolicy,
  tokens: Pick<TokenSet, 'issuedAt' | 'expiresAt'>,
): number | undefined {
  if (tokens.expiresAt === undefined) return undefined;
  const lifetime = Math.max(0, tokens.expiresAt - tokens.issuedAt);
  const due =
    policy.refreshAt.kind === 'before-expiry'
      ? tokens.expiresAt - Math.min(policy.refreshAt.seconds, Math.floor(lifetime / 2))
      : tokens.issuedAt + Math.floor(lifetime * policy.refreshAt.fraction);
  return Math.max(due, tokens.issuedAt + Math.min(policy.minIntervalSeconds, lifetime));
}

/** Whether `tokens` should be refreshed at `now` (epoch seconds). */
export function isRefreshDue(
  policy: RefreshPolicy,
  tokens: Pick<TokenSet, 'issuedAt' | 'expiresAt'>,
  now: number,
): boolean {
  const due = refreshDueAt(policy, tokens);
  return due !== undefined && now >= due;
}

/**
 * When an idle refresh token lapses (RingCentral 7 days, sipgate 30 days): the earlier of its absolute expiry
 * and `lastRefreshedAt + refreshTokenIdleSeconds`. Undefined when neither is known.
 */
export function refreshTokenLapsesAt(
  policy: RefreshPolicy,
  tokens: Pick<TokenSet, 'issuedAt' | 'refreshExpiresAt' | 'refreshToken'>,
): number | undefined {
  if (!tokens.refreshToken) return undefined;
  const idle =
    policy.refreshTokenIdleSeconds === undefined
      ? undefined
      : tokens.issuedAt + policy.refreshTokenIdleSeconds;
  if (idle === undefined) return tokens.refreshExpiresAt;
  return tokens.refreshExpiresAt === undefined ? idle : Math.min(idle, tokens.refreshExpiresAt);
}
