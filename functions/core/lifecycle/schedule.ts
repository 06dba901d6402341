/**
 * Pure rules of a connection's life: whether it can refresh, how a refresh answer merges into the stored
 * credentials, when its item expires (TTL) and when the scheduled refresh should next look at it.
 */
import type { ResolvedProvider } from '../provider/resolve.js';
import type { RefreshPolicy, TokenGrantName } from '../provider/schema.js';
import { refreshDueAt, refreshTokenLapsesAt } from '../refresh-policy.js';
import type { TokenSet } from '../token-set.js';

/** Whether a connection created through `grant` can use the refresh_token grant (given it holds a refresh token). */
export function canRefresh(provider: ResolvedProvider, grant: string, hasRefreshToken: boolean): boolean {
  if (!hasRefreshToken || !provider.template.grants.refresh_token) return false;
  const spec = provider.template.grants[grant as TokenGrantName];
  return spec?.refreshable !== false;
}

/**
 * The credentials after a refresh. A response without `refresh_token` keeps the stored one (and its expiry):
 * RFC 6749 §6 lets the server omit it, and erasing it would log the user out at the next expiry.
 * An omitted id_token, scope or metadata value likewise keeps the previous value.
 * https://www.rfc-editor.org/rfc/rfc6749#section-6
 */
export function mergeRefreshed(previous: TokenSet, fresh: TokenSet): TokenSet {
  const keepRefresh = !fresh.refreshToken;
  return {
    ...fresh,
    refreshToken: keepRefresh ? previous.refreshToken : fresh.refreshToken,
    refreshExpiresAt: keepRefresh ? previous.refreshExpiresAt : fresh.refreshExpiresAt,
    idToken: fresh.idToken ?? previous.idToken,
    scopes: fresh.scopes ?? previous.scopes,
    subject: fresh.subject ?? previous.subject,
    metadata: previous.metadata || fresh.metadata ? { ...previous.metadata, ...fresh.metadata } : undefined,
  };
}

/**
 * When a connection's item may expire: its longest-lived credential plus `graceSeconds`. That is when
 * the refresh token lapses (absolute expiry or idle timeout) for a refreshable connection, the access
 * token's expiry otherwise, and never before the access token expires. Undefined (keep until deleted)
 * when the deciding credential has no known expiry.
 */
export function connectionExpiresAt(
  policy: RefreshPolicy,
  tokens: TokenSet,
  refreshable: boolean,
  graceSeconds: number,
): number | undefined {
  const deciding = refreshable ? refreshTokenLapsesAt(policy, tokens) : tokens.expiresAt;
  if (deciding === undefined) return undefined;
  return Math.max(deciding, tokens.expiresAt ?? deciding) + graceSeconds;
}

export interface ScheduleOptions {
  /** Connections vended within this window are kept hot (refreshed ahead of access-token expiry). */
  hotWindowSeconds: number;
  /** An idle connection's keepalive refresh happens this long before its refresh token lapses. */
  keepaliveMarginSeconds: number;
}

/**
 * When the scheduled refresh should next look at a connection (the `refreshDueAt` of the refresh-due
 * index). Hot connections (vended within `hotWindowSeconds` of their next access-token refresh point)
 * get that point; idle ones only the keepalive before their refresh token lapses, and refresh lazily on
 * their next vend. Undefined when nothing needs scheduling (not refreshable, or nothing ever lapses).
 */
export function plannedRefreshAt(
  policy: RefreshPolicy,
  tokens: TokenSet,
  refreshable: boolean,
  lastVendedAt: number | undefined,
  options: ScheduleOptions,
): number | undefined {
  if (!refreshable) return undefined;
  const lapse = refreshTokenLapsesAt(policy, tokens);
  const keepalive =
    lapse === undefined
      ? undefined
      : lapse - Math.min(options.keepaliveMarginSeconds, Math.floor((lapse - tokens.issuedAt) / 2));
  const accessDue = refreshDueAt(policy, tokens);
  const hot =
    accessDue !== undefined &&
    lastVendedAt !== undefined &&
    accessDue <= lastVendedAt + options.hotWindowSeconds;
  if (!hot) return keepalive;
  return keepalive === undefined ? accessDue : Math.min(accessDue, keepalive);
}
