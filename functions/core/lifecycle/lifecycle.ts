/**
 * The token lifecycle: vend a fresh token, refreshing it single-flight across any number of Lambdas.
 *
 * Protocol (docs/data-model.md, "Lease protocol"): read; if the access token is due, take a lease with a
 * conditional write on the version read; the lease write returns the item atomically (the re-read);
 * refresh at the vendor; write the merged credentials with version + 1 conditional on the version and the
 * lease; release. Everyone else waits with jittered backoff and reads the winner's result, or gets the
 * current access token straight away while it is still valid.
 */
import {
  InvalidClientError,
  InvalidGrantError,
  RateLimitedError,
  TokenvendError,
  VendorUnavailableError,
} from '../errors.js';
import { requestToken } from '../oauth/engine.js';
import type { FetchLike } from '../oauth/http.js';
import type { SecretSource } from '../ports.js';
import type { ResolvedProvider } from '../provider/resolve.js';
import { isRefreshDue } from '../refresh-policy.js';
import type { TokenSet } from '../token-set.js';
import {
  NeedsReauthError,
  NotConnectedError,
  RefreshUnavailableError,
  VersionConflictError,
} from './errors.js';
import { canRefresh, connectionExpiresAt, mergeRefreshed, plannedRefreshAt } from './schedule.js';
import type { Connection, ConnectionFailure, ConnectionKey, ConnectionStore } from './store.js';

export interface LifecycleOptions {
  /** Timeout of one vendor token request. */
  vendorTimeoutMs: number;
  /** How long a successful vendor answer may take to be stored (write retries) before giving up. */
  writeRetryBudgetMs: number;
  /**
   * Lease duration. Must cover every vendor request a holder may make (the request, one invalid_client
   * retry, one unknown-outcome retry) plus the write budget; the default is exactly that plus 2 s.
   */
  leaseMs: number;
  /** Total time a caller waits for another caller's refresh before answering 503. */
  maxWaitMs: number;
  /** A vended access token has at least this many seconds left; anything shorter counts as expired. */
  minValiditySeconds: number;
  /** Grace added to the item's TTL after its longest-lived credential lapses. */
  ttlGraceSeconds: number;
  /** Connections vended within this window are refreshed ahead of expiry by the scheduled refresh. */
  hotWindowSeconds: number;
  /** The keepalive refresh of an idle connection runs this long before its refresh token lapses. */
  keepaliveMarginSeconds: number;
  /** `lastVendedAt` is written at most this often per connection (a write per vend would double the cost). */
  touchIntervalSeconds: number;
  /** How long a `needs_reauth` connection is kept so callers learn why before it reads as not connected. */
  needsReauthRetentionSeconds: number;
}

const DEFAULT_VENDOR_TIMEOUT_MS = 5_000;
const DEFAULT_WRITE_BUDGET_MS = 5_000;

export function defaultLifecycleOptions(overrides: Partial<LifecycleOptions> = {}): LifecycleOptions {
  const vendorTimeoutMs = overrides.vendorTimeoutMs ?? DEFAULT_VENDOR_TIMEOUT_MS;
  const writeRetryBudgetMs = overrides.writeRetryBudgetMs ?? DEFAULT_WRITE_BUDGET_MS;
  return {
    vendorTimeoutMs,
    writeRetryBudgetMs,
    leaseMs: 3 * vendorTimeoutMs + writeRetryBudgetMs + 2_000,
    maxWaitMs: 8_000,
    minValiditySeconds: 15,
    ttlGraceSeconds: 3_600,
    hotWindowSeconds: 2 * 3_600,
    keepaliveMarginSeconds: 86_400,
    touchIntervalSeconds: 300,
    needsReauthRetentionSeconds: 30 * 86_400,
    ...overrides,
  };
}

export interface LifecycleDeps {
  store: ConnectionStore;
  /** The provider bound to an integration's variables; throws a ConfigError for an unknown integration. */
  resolveIntegration: (integration: string) => ResolvedProvider | Promise<ResolvedProvider>;
  secrets: SecretSource;
  fetch: FetchLike;
  /** Epoch milliseconds; injected so tests control time. */
  nowMs?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** In [0, 1); jitter of the wait backoff. */
  random?: () => number;
  /** Lease owner ids; unique per call. */
  newOwner?: () => string;
}

/** What a vend hands out: the access token only, never the refresh token. */
export interface FreshToken {
  accessToken: string;
  tokenType: string;
  expiresAt?: number | undefined;
  scopes?: string[] | undefined;
  /** The connection version the token belongs to. */
  version: number;
  /** `stored`: still fresh; `refreshed`: this call refreshed it; `peer`: another caller refreshed it. */
  source: 'stored' | 'refreshed' | 'peer';
}

export interface GetFreshTokenOptions {
  /** Record the vend (`lastVendedAt`, keeps the connection hot). False for the scheduled refresh. */
  vend?: boolean;
  /** Refresh even when not yet due (the scheduled keepalive of an idle connection). */
  force?: boolean;
}

const sleepMs = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class TokenLifecycle {
  readonly options: LifecycleOptions;
  readonly #deps: LifecycleDeps;
  readonly #nowMs: () => number;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #random: () => number;
  readonly #newOwner: () => string;

  constructor(deps: LifecycleDeps, options: Partial<LifecycleOptions> = {}) {
    this.#deps = deps;
    this.options = defaultLifecycleOptions(options);
    this.#nowMs = deps.nowMs ?? Date.now;
    this.#sleep = deps.sleep ?? sleepMs;
    this.#random = deps.random ?? Math.random;
    this.#newOwner = deps.newOwner ?? (() => crypto.randomUUID());
  }

  #now(): number {
    return Math.floor(this.#nowMs() / 1000);
  }

  /**
   * A fresh access token for `subject` on `integration`: the stored one while it is not due, otherwise a
   * single-flight refresh (this caller refreshes, or waits for the caller that does).
   * Throws {@link NotConnectedError}, {@link NeedsReauthError} or {@link RefreshUnavailableError}.
   */
  async getFreshToken(
    integration: string,
    subject: string,
    options: GetFreshTokenOptions = {},
  ): Promise<FreshToken> {
    const key = { integration, subject };
    const provider = await this.#deps.resolveIntegration(integration);
    const policy = provider.template.refresh;
    const startedMs = this.#nowMs();
    let waits = 0;
    let consistent = false;
    for (;;) {
      const connection = await this.#deps.store.get(key, { consistent });
      if (!connection) throw new NotConnectedError(integration);
      assertUsable(connection);
      const now = this.#now();
      const peer = waits > 0;
      const valid = this.#isValid(connection.tokens, now);
      const due = options.force || !valid || isRefreshDue(policy, connection.tokens, now);
      if (!due) return this.#vend(provider, connection, peer ? 'peer' : 'stored', options);
      if (!canRefresh(provider, connection.grant, connection.hasRefreshToken)) {
        if (valid) return this.#vend(provider, connection, 'stored', options);
        await this.#markUnusable(connection, 'expired', undefined);
        throw new NeedsReauthError(integration, 'expired');
      }
      if (connection.lease && connection.lease.expiresAtMs > this.#nowMs()) {
        // Someone else is refreshing: the current token is as good as theirs while it lasts.
        if (valid) return this.#vend(provider, connection, 'stored', options);
        await this.#wait(startedMs, waits++, integration);
        consistent = true;
        continue;
      }
      const owner = this.#newOwner();
      const nowMs = this.#nowMs();
      const leased = await this.#deps.store.acquireLease(key, {
        version: connection.version,
        owner,
        expiresAtMs: nowMs + this.options.leaseMs,
        nowMs,
      });
      if (!leased) {
        // Lost the race for the lease (or the version moved): read the winner's state.
        consistent = true;
        continue;
      }
      return this.#refreshUnderLease(provider, leased, owner, options);
    }
  }

  /**
   * Stores the credentials of a new consent (connect flow, SAML bearer, client credentials), replacing
   * any previous connection of the subject. TTL and refresh schedule follow from the provider's policy.
   */
  async storeNewConnection(input: ConnectionKey & { grant: string; tokens: TokenSet }): Promise<Connection> {
    const provider = await this.#deps.resolveIntegration(input.integration);
    const policy = provider.template.refresh;
    const now = this.#now();
    const refreshable = canRefresh(provider, input.grant, Boolean(input.tokens.refreshToken));
    return this.#deps.store.put({
      integration: input.integration,
      subject: input.subject,
      grant: input.grant,
      tokens: input.tokens,
      now,
      // A fresh consent is activity: keep it hot for the window.
      lastVendedAt: now,
      expiresAt: connectionExpiresAt(policy, input.tokens, refreshable, this.options.ttlGraceSeconds),
      refreshDueAt: plannedRefreshAt(policy, input.tokens, refreshable, now, this.options),
    });
  }

  #isValid(tokens: Pick<TokenSet, 'expiresAt'>, now: number): boolean {
    return tokens.expiresAt === undefined || tokens.expiresAt - now >= this.options.minValiditySeconds;
  }

  async #wait(startedMs: number, attempt: number, integration: string): Promise<void> {
    const remaining = startedMs + this.options.maxWaitMs - this.#nowMs();
    if (remaining <= 0) {
      throw new RefreshUnavailableError(`a refresh of ${integration} is in progress; try again shortly`, {
        retryAfterSeconds: 1,
      });
    }
    // Full jitter: spreads 50 waiters so they do not re-read in lock-step.
    const ceiling = Math.min(500, 25 * 2 ** attempt);
    await this.#sleep(Math.min(remaining, 5 + Math.floor(this.#random() * ceiling)));
  }

  async #vend(
    provider: ResolvedProvider,
    connection: Connection,
    source: FreshToken['source'],
    options: GetFreshTokenOptions,
  ): Promise<FreshToken> {
    const now = this.#now();
    const stale =
      connection.lastVendedAt === undefined ||
      now - connection.lastVendedAt >= this.options.touchIntervalSeconds;
    if (options.vend !== false && stale) {
      const refreshable = canRefresh(provider, connection.grant, connection.hasRefreshToken);
      try {
        await this.#deps.store.touch(connection, {
          version: connection.version,
          lastVendedAt: now,
          refreshDueAt: plannedRefreshAt(
            provider.template.refresh,
            connection.tokens,
            refreshable,
            now,
            this.options,
          ),
        });
      } catch {
        // Best effort: a missed touch only delays keeping the connection hot until the next vend.
      }
    }
    const { tokens } = connection;
    return {
      accessToken: tokens.accessToken,
      tokenType: tokens.tokenType,
      expiresAt: tokens.expiresAt,
      scopes: tokens.scopes,
      version: connection.version,
      source,
    };
  }

  /** Milliseconds the lease has left; a vendor request is only sent when a full request + write fits. */
  #leaseLeftMs(leaseExpiresAtMs: number): number {
    return leaseExpiresAtMs - this.#nowMs();
  }

  async #refreshUnderLease(
    provider: ResolvedProvider,
    leased: Connection,
    owner: string,
    options: GetFreshTokenOptions,
  ): Promise<FreshToken> {
    const { integration } = leased;
    const store = this.#deps.store;
    const leaseExpiresAtMs = leased.lease?.expiresAtMs ?? this.#nowMs() + this.options.leaseMs;
    const refreshToken = leased.tokens.refreshToken;
    if (!refreshToken) {
      await store.releaseLease(leased, { owner });
      throw new NeedsReauthError(integration, 'expired');
    }
    const needed = this.options.vendorTimeoutMs + this.options.writeRetryBudgetMs;
    let fresh: TokenSet | undefined;
    let error: unknown;
    try {
      let client = await this.#deps.secrets.getClientSecret(integration);
      let clientReloaded = false;
      let unknownRetried = false;
      for (;;) {
        if (this.#leaseLeftMs(leaseExpiresAtMs) < needed) {
          // Never send the refresh token when the lease could lapse before the answer is stored.
          throw new RefreshUnavailableError(`refresh of ${integration} ran out of lease time`, {
            retryAfterSeconds: 1,
          });
        }
        try {
          fresh = await requestToken(provider, { grant: 'refresh_token', refreshToken }, client, {
            fetch: this.#deps.fetch,
            timeoutMs: this.options.vendorTimeoutMs,
            now: () => this.#now(),
          });
          break;
        } catch (e) {
          if (e instanceof InvalidClientError && !clientReloaded) {
            // The client secret may have been rotated since it was cached; the grant was not consumed.
            clientReloaded = true;
            client = await this.#deps.secrets.getClientSecret(integration, { refresh: true });
            continue;
          }
          if (e instanceof VendorUnavailableError && e.outcomeUnknown && !unknownRetried) {
            // Re-read before any retry: if anyone committed meanwhile, their credentials win.
            unknownRetried = true;
            const current = await store.get(leased, { consistent: true });
            if (!current || current.version !== leased.version || current.lease?.owner !== owner) {
              return this.#afterLostLease(provider, leased.integration, current, options);
            }
            continue;
          }
          throw e;
        }
      }
    } catch (e) {
      error = e;
    }
    if (fresh === undefined) return this.#failRefresh(provider, leased, owner, error);
    const merged = mergeRefreshed(leased.tokens, fresh);
    const committed = await this.#commit(provider, leased, owner, merged, options);
    return committed;
  }

  /** Stores the refreshed credentials; retried until stored, since the old refresh token is spent. */
  async #commit(
    provider: ResolvedProvider,
    leased: Connection,
    owner: string,
    tokens: TokenSet,
    options: GetFreshTokenOptions,
  ): Promise<FreshToken> {
    const policy = provider.template.refresh;
    const refreshable = canRefresh(provider, leased.grant, Boolean(tokens.refreshToken));
    const now = this.#now();
    const lastVendedAt = options.vend === false ? leased.lastVendedAt : now;
    const update = {
      version: leased.version,
      owner,
      tokens,
      now,
      lastVendedAt,
      expiresAt: connectionExpiresAt(policy, tokens, refreshable, this.options.ttlGraceSeconds),
      refreshDueAt: plannedRefreshAt(policy, tokens, refreshable, lastVendedAt, this.options),
    };
    const deadlineMs = this.#nowMs() + this.options.writeRetryBudgetMs;
    let force = false;
    for (let attempt = 0; ; attempt++) {
      try {
        const committed = await this.#deps.store.commitRefresh(leased, { ...update, force });
        return this.#vend(provider, { ...committed, lastVendedAt }, 'refreshed', { vend: false });
      } catch (e) {
        if (e instanceof VersionConflictError) {
          const current = await this.#deps.store.get(leased, { consistent: true });
          if (current && current.version === leased.version && !force) {
            // Our lease lapsed and was taken, but nobody has stored newer credentials: ours are the live
            // ones (the vendor just rotated), so store them over the version we replaced.
            force = true;
            continue;
          }
          return this.#afterLostLease(provider, leased.integration, current, options);
        }
        if (this.#nowMs() >= deadlineMs) {
          throw new RefreshUnavailableError(
            `could not store refreshed credentials of ${leased.integration}`,
            {
              retryAfterSeconds: 1,
              cause: e,
            },
          );
        }
        await this.#sleep(Math.min(1_000, 20 * 2 ** attempt) * (0.5 + this.#random() / 2));
      }
    }
  }

  /** Someone else wrote while we held (or thought we held) the lease: use what they stored. */
  async #afterLostLease(
    provider: ResolvedProvider,
    integration: string,
    current: Connection | undefined,
    options: GetFreshTokenOptions,
  ): Promise<FreshToken> {
    if (!current) throw new NotConnectedError(integration);
    assertUsable(current);
    if (this.#isValid(current.tokens, this.#now())) return this.#vend(provider, current, 'peer', options);
    throw new RefreshUnavailableError(`a refresh of ${integration} is in progress; try again shortly`, {
      retryAfterSeconds: 1,
    });
  }

  async #failRefresh(
    provider: ResolvedProvider,
    leased: Connection,
    owner: string,
    error: unknown,
  ): Promise<FreshToken> {
    const { integration } = leased;
    const now = this.#now();
    const failure = failureOf(error, now);
    if (error instanceof InvalidGrantError) {
      await this.#markUnusable(leased, 'invalid_grant', failure);
      throw new NeedsReauthError(integration, 'invalid_grant', error);
    }
    // Back the scheduled refresh off exponentially (30 s .. 1 h) so a dead vendor is not hammered.
    const retryAfter =
      error instanceof RateLimitedError && error.retryAfterSeconds !== undefined
        ? error.retryAfterSeconds
        : Math.min(3_600, 30 * 2 ** Math.min(leased.failureCount, 7));
    await this.#deps.store.releaseLease(leased, { owner, failure, refreshDueAt: now + retryAfter });
    if (this.#isValid(leased.tokens, now)) {
      return this.#vend(provider, leased, 'stored', { vend: false });
    }
    if (
      error instanceof TokenvendError &&
      error.status < 500 &&
      !(error instanceof RefreshUnavailableError)
    ) {
      throw error;
    }
    throw new RefreshUnavailableError(`could not refresh the token of ${integration}`, {
      retryAfterSeconds: error instanceof RateLimitedError ? (error.retryAfterSeconds ?? 5) : 5,
      cause: error,
    });
  }

  async #markUnusable(
    connection: Connection,
    reason: string,
    failure: ConnectionFailure | undefined,
  ): Promise<void> {
    try {
      await this.#deps.store.markUnusable(connection, {
        version: connection.version,
        status: 'needs_reauth',
        reason,
        failure,
        expiresAt: this.#now() + this.options.needsReauthRetentionSeconds,
      });
    } catch (e) {
      // A newer version (a new consent) is stored: it is not ours to mark.
      if (!(e instanceof VersionConflictError)) throw e;
    }
  }
}

function assertUsable(connection: Connection): void {
  if (connection.status === 'needs_reauth') {
    throw new NeedsReauthError(connection.integration, connection.reason ?? 'invalid_grant');
  }
  if (connection.status === 'revoked') throw new NotConnectedError(connection.integration);
}

/** A failure as stored on the connection: code and message only (core errors never carry tokens). */
function failureOf(error: unknown, at: number): ConnectionFailure {
  if (error instanceof VendorUnavailableError && error.outcomeUnknown) {
    return { code: 'outcome_unknown', message: error.message.slice(0, 300), at };
  }
  if (error instanceof TokenvendError) return { code: error.error, message: error.message.slice(0, 300), at };
  return { code: 'server_error', message: 'unexpected error during refresh', at };
}
