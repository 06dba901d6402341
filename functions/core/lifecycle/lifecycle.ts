/**
 * The token lifecycle: vend a fresh token, refreshing it single-flight across any number of Lambdas, and the
 * scheduled refresh of one due connection (DESIGN flow 4).
 *
 * Protocol (docs/data-model.md, "Lease protocol"): read; if the access token is due, take a lease with a
 * conditional write on the version read; the lease write returns the item atomically (the re-read);
 * refresh at the vendor; write the merged credentials with version + 1 conditional on the version and the
 * lease; release. Everyone else waits with jittered backoff and reads the winner's result, or gets the
 * current access token straight away while it is still valid.
 *
 * A vendor is never hammered: every failed refresh stores a not-before time on the connection (the vendor's
 * Retry-After, or a capped exponential backoff with full jitter), and no path calls the vendor for that
 * connection before it has passed (docs/data-model.md, "Failure classes").
 */
import {
  InvalidClientError,
  InvalidGrantError,
  MalformedResponseError,
  RateLimitedError,
  TokenvendError,
  VendorError,
  VendorUnavailableError,
} from '../errors.js';
import { requestToken } from '../oauth/engine.js';
import type { FetchLike } from '../oauth/http.js';
import type {
  AuditSink,
  ConnectionEvent,
  ConnectionEventSink,
  RefreshFailureClass,
  SecretSource,
  Telemetry,
} from '../ports.js';
import { bindToConnection, type ResolvedProvider } from '../provider/resolve.js';
import { isRefreshDue } from '../refresh-policy.js';
import type { TokenSet } from '../token-set.js';
import {
  NeedsReauthError,
  NotConnectedError,
  RefreshUnavailableError,
  VersionConflictError,
} from './errors.js';
import { canRefresh, connectionExpiresAt, mergeRefreshed, plannedRefreshAt } from './schedule.js';
import type { Connection, ConnectionFailure, ConnectionStore } from './store.js';

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
  /**
   * A vended access token has at least this many seconds left, scaled down to a quarter of the token's
   * lifetime (at least 1 s) so that a token living seconds is not already "expired" when issued.
   */
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
  /** First step of the backoff after a transient vendor failure (doubles per consecutive failure). */
  backoffBaseSeconds: number;
  /** Longest backoff after transient vendor failures, and the longest Retry-After honoured. */
  backoffCapSeconds: number;
  /**
   * A token a caller reports as refused by the vendor is refreshed only once it is this old (scaled down to a
   * quarter of its lifetime): a caller looping vend -> reject cannot make us hammer the vendor.
   */
  minRejectAgeSeconds: number;
  /**
   * The scheduled refresh takes a connection this early (the planner's interval): a planner that runs every
   * minute refreshes what falls due before its next run, so a hot connection never waits for a vend.
   */
  scheduleLeadSeconds: number;
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
    backoffBaseSeconds: 5,
    backoffCapSeconds: 900,
    scheduleLeadSeconds: 60,
    minRejectAgeSeconds: 30,
    ...overrides,
  };
}

/** An integration resolved once per request (the provider bound to its variables) and passed on. */
export interface IntegrationRef {
  readonly id: string;
  readonly provider: ResolvedProvider;
}

export interface LifecycleDeps {
  store: ConnectionStore;
  secrets: SecretSource;
  fetch: FetchLike;
  /** Connection events (connected, refresh_failed, needs_reauth); none when absent. */
  events?: ConnectionEventSink;
  /** Refresh metrics; none when absent. */
  telemetry?: Telemetry;
  /** The audit trail: one `refresh` record per vendor refresh; none when absent. */
  audit?: AuditSink;
  /** Epoch milliseconds; injected so tests control time. */
  nowMs?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** In [0, 1); jitter of the wait backoff and the failure backoff. */
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
  /** The connection's non-secret template metadata ({@link TokenSet.metadata}). */
  metadata?: Readonly<Record<string, string>> | undefined;
  /** The connection version the token belongs to. */
  version: number;
  /** `stored`: still fresh; `refreshed`: this call refreshed it; `peer`: another caller refreshed it. */
  source: 'stored' | 'refreshed' | 'peer';
}

export interface GetFreshTokenOptions {
  /** Record the vend (`lastVendedAt`, keeps the connection hot). */
  vend?: boolean;
  /** Refresh even when not yet due. */
  force?: boolean;
  /**
   * The vendor refused this access token (a 401 at its API): the base64url SHA-256 of it. When it is still the
   * stored token and at least {@link LifecycleOptions.minRejectAgeSeconds} old, it is refreshed (single-flight,
   * honouring any backoff); any other value is ignored, so a caller can only reject the token it was given.
   */
  rejected?: string | undefined;
}

/**
 * What the scheduled refresh did with one due connection. Everything but `refreshed` and `failed` is a no-op
 * (a duplicate delivery, a connection refreshed or replaced since it was planned, one backing off).
 */
export type ScheduledRefreshOutcome =
  | { outcome: 'refreshed'; lagSeconds: number }
  | { outcome: 'failed'; failure: RefreshFailureClass }
  | { outcome: 'needs_reauth' }
  | { outcome: 'gone' | 'superseded' | 'not_due' | 'backing_off' | 'contended' };

/** The result of one refresh attempt under a lease. Failures are already recorded on the connection. */
type Attempt =
  | { kind: 'refreshed'; connection: Connection }
  | { kind: 'superseded'; current: Connection | undefined }
  | { kind: 'failed'; error: unknown; failure: RefreshFailureClass; notBefore: number }
  | { kind: 'reauth'; error: NeedsReauthError };

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
   * single-flight refresh (this caller refreshes, or waits for the caller that does). While the connection
   * backs off after a vendor failure, the stored token is handed out while it lasts and the vendor is not
   * called. Throws {@link NotConnectedError}, {@link NeedsReauthError} or {@link RefreshUnavailableError}.
   */
  async getFreshToken(
    integration: IntegrationRef,
    subject: string,
    options: GetFreshTokenOptions = {},
  ): Promise<FreshToken> {
    const key = { integration: integration.id, subject };
    const { provider } = integration;
    const policy = provider.template.refresh;
    const startedMs = this.#nowMs();
    let waits = 0;
    let consistent = false;
    let firstVersion: number | undefined;
    for (;;) {
      const connection = await this.#deps.store.get(key, { consistent });
      if (!connection) throw new NotConnectedError(integration.id);
      assertUsable(connection);
      firstVersion ??= connection.version;
      const now = this.#now();
      const peer = waits > 0;
      const rejected = await this.#isRejected(connection.tokens, options.rejected, now);
      // A token the caller saw refused is no good to hand back while someone refreshes it.
      const valid = this.#isValid(connection.tokens, now) && !rejected;
      const due = options.force || !valid || isRefreshDue(policy, connection.tokens, now);
      if (!due) return this.#vend(provider, connection, peer ? 'peer' : 'stored', options);
      // Waited for a peer's refresh and got it: its token is ours while valid, even if a short lifetime makes it
      // due already (one refresh per token issued, and no second one for the callers of the same burst).
      if (peer && connection.version !== firstVersion && valid && !options.force) {
        return this.#vend(provider, connection, 'peer', options);
      }
      if (!canRefresh(provider, connection.grant, connection.hasRefreshToken)) {
        if (valid) return this.#vend(provider, connection, 'stored', options);
        // Nothing to refresh with: expired, or refused by the vendor (a service connection is obtained anew).
        const reason = rejected ? 'rejected' : 'expired';
        await this.#markUnusable(connection, reason, undefined);
        throw new NeedsReauthError(integration.id, reason, { grant: connection.grant });
      }
      if (connection.notBefore !== undefined && connection.notBefore > now) {
        // Backing off after a vendor failure: nobody calls the vendor before the not-before time.
        if (isUnexpired(connection.tokens, now)) return this.#vend(provider, connection, 'stored', options);
        throw backingOff(integration.id, connection.notBefore - now);
      }
      if (connection.lease && connection.lease.expiresAtMs > this.#nowMs()) {
        // Someone else is refreshing: the current token is as good as theirs while it lasts.
        if (valid) return this.#vend(provider, connection, 'stored', options);
        if (waits === 0) this.#metric('LeaseContended', 1, integration.id);
        await this.#wait(startedMs, waits++, integration.id);
        consistent = true;
        continue;
      }
      const leased = await this.#acquire(connection);
      if (!leased) {
        // Lost the race for the lease (or the version moved): read the winner's state.
        consistent = true;
        continue;
      }
      const attempt = await this.#refreshUnderLease(provider, leased.connection, leased.owner, options);
      return this.#settle(provider, leased.connection, attempt, options);
    }
  }

  /**
   * The scheduled refresh of one connection the planner found due (`version` as the planner saw it). A
   * duplicate delivery, a connection refreshed or replaced since, one that is backing off or whose lease is
   * held, is a no-op; the lease makes a worker and a vend never refresh the same connection twice.
   */
  async refreshScheduled(
    integration: IntegrationRef,
    planned: { subject: string; version: number },
  ): Promise<ScheduledRefreshOutcome> {
    const { provider } = integration;
    const connection = await this.#deps.store.get(
      { integration: integration.id, subject: planned.subject },
      { consistent: true },
    );
    if (!connection) return { outcome: 'gone' };
    if (connection.status === 'needs_reauth' || connection.status === 'revoked') return { outcome: 'gone' };
    if (connection.version !== planned.version) return { outcome: 'superseded' };
    const now = this.#now();
    const dueAt = connection.refreshDueAt;
    if (dueAt === undefined || dueAt > now + this.options.scheduleLeadSeconds) return { outcome: 'not_due' };
    if (!canRefresh(provider, connection.grant, connection.hasRefreshToken)) return { outcome: 'not_due' };
    if (connection.notBefore !== undefined && connection.notBefore > now) return { outcome: 'backing_off' };
    if (connection.lease && connection.lease.expiresAtMs > this.#nowMs()) {
      this.#metric('LeaseContended', 1, integration.id);
      return { outcome: 'contended' };
    }
    const leased = await this.#acquire(connection);
    if (!leased) {
      this.#metric('LeaseContended', 1, integration.id);
      return { outcome: 'contended' };
    }
    const attempt = await this.#refreshUnderLease(provider, leased.connection, leased.owner, {
      vend: false,
    });
    switch (attempt.kind) {
      case 'refreshed': {
        const lagSeconds = Math.max(0, this.#now() - dueAt);
        this.#metric('RefreshLagSeconds', lagSeconds, integration.id);
        return { outcome: 'refreshed', lagSeconds };
      }
      case 'superseded':
        return { outcome: 'superseded' };
      case 'reauth':
        return { outcome: 'needs_reauth' };
      case 'failed':
        return { outcome: 'failed', failure: attempt.failure };
    }
  }

  /**
   * Stores the credentials of a new consent (connect flow, SAML bearer, client credentials), replacing
   * any previous connection of the subject. TTL and refresh schedule follow from the provider's policy.
   */
  async storeNewConnection(
    integration: IntegrationRef,
    input: { subject: string; grant: string; tokens: TokenSet },
  ): Promise<Connection> {
    const policy = integration.provider.template.refresh;
    const now = this.#now();
    const refreshable = canRefresh(integration.provider, input.grant, Boolean(input.tokens.refreshToken));
    const stored = await this.#deps.store.put({
      integration: integration.id,
      subject: input.subject,
      grant: input.grant,
      tokens: input.tokens,
      now,
      // A fresh consent is activity: keep it hot for the window.
      lastVendedAt: now,
      expiresAt: connectionExpiresAt(policy, input.tokens, refreshable, this.options.ttlGraceSeconds),
      refreshDueAt: plannedRefreshAt(policy, input.tokens, refreshable, now, this.options),
    });
    await this.#publish(stored, 'connection.connected', input.grant);
    return stored;
  }

  /**
   * Whether `tokens` may be handed out: unexpired with a margin scaled to their lifetime (a token that lives
   * 2 s is valid for its first second, one that lives an hour until 15 s before expiry).
   */
  #isValid(tokens: Pick<TokenSet, 'expiresAt' | 'issuedAt'>, now: number): boolean {
    if (tokens.expiresAt === undefined) return true;
    const lifetime = Math.max(0, tokens.expiresAt - tokens.issuedAt);
    const margin = Math.max(1, Math.min(this.options.minValiditySeconds, Math.floor(lifetime / 4)));
    return tokens.expiresAt - now >= margin;
  }

  /** Whether `rejected` names the stored access token, old enough for a caller's rejection to count. */
  async #isRejected(tokens: TokenSet, rejected: string | undefined, now: number): Promise<boolean> {
    if (rejected === undefined) return false;
    const lifetime =
      tokens.expiresAt === undefined ? Number.POSITIVE_INFINITY : tokens.expiresAt - tokens.issuedAt;
    const minAge = Math.min(this.options.minRejectAgeSeconds, Math.floor(lifetime / 4));
    if (now - tokens.issuedAt < minAge) return false;
    return (await accessTokenHash(tokens.accessToken)) === rejected;
  }

  async #acquire(connection: Connection): Promise<{ connection: Connection; owner: string } | undefined> {
    const owner = this.#newOwner();
    const nowMs = this.#nowMs();
    const leased = await this.#deps.store.acquireLease(connection, {
      version: connection.version,
      owner,
      expiresAtMs: nowMs + this.options.leaseMs,
      nowMs,
    });
    return leased && { connection: leased, owner };
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
      const planned = plannedRefreshAt(
        provider.template.refresh,
        connection.tokens,
        refreshable,
        now,
        this.options,
      );
      try {
        await this.#deps.store.touch(connection, {
          version: connection.version,
          lastVendedAt: now,
          // A connection backing off keeps its retry time; the planner must not take it earlier.
          refreshDueAt:
            planned !== undefined && connection.notBefore !== undefined && connection.notBefore > now
              ? Math.max(planned, connection.notBefore)
              : planned,
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
      metadata: tokens.metadata,
      version: connection.version,
      source,
    };
  }

  /** What a vend answers after its own refresh attempt. */
  async #settle(
    provider: ResolvedProvider,
    leased: Connection,
    attempt: Attempt,
    options: GetFreshTokenOptions,
  ): Promise<FreshToken> {
    const { integration } = leased;
    switch (attempt.kind) {
      case 'refreshed':
        return this.#vend(provider, attempt.connection, 'refreshed', { vend: false });
      case 'superseded':
        return this.#afterLostLease(provider, integration, attempt.current, options);
      case 'reauth':
        throw attempt.error;
      case 'failed': {
        const now = this.#now();
        if (this.#isValid(leased.tokens, now)) {
          return this.#vend(provider, leased, 'stored', { vend: false });
        }
        const { error } = attempt;
        if (
          error instanceof TokenvendError &&
          error.status < 500 &&
          !(error instanceof RefreshUnavailableError)
        ) {
          throw error;
        }
        throw backingOff(integration, attempt.notBefore - now, error);
      }
    }
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
  ): Promise<Attempt> {
    const { integration } = leased;
    const store = this.#deps.store;
    const leaseExpiresAtMs = leased.lease?.expiresAtMs ?? this.#nowMs() + this.options.leaseMs;
    const refreshToken = leased.tokens.refreshToken;
    if (!refreshToken) {
      await store.releaseLease(leased, { owner });
      return { kind: 'reauth', error: new NeedsReauthError(integration, 'expired', { grant: leased.grant }) };
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
          // The connection's own data centre or host, where its callback selected one (Zoho accounts-server).
          fresh = await requestToken(
            bindToConnection(provider, leased.tokens.metadata),
            { grant: 'refresh_token', refreshToken },
            client,
            {
              fetch: this.#deps.fetch,
              timeoutMs: this.options.vendorTimeoutMs,
              now: () => this.#now(),
            },
          );
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
              return { kind: 'superseded', current };
            }
            continue;
          }
          throw e;
        }
      }
    } catch (e) {
      error = e;
    }
    if (fresh === undefined) return this.#failRefresh(leased, owner, error);
    const merged = mergeRefreshed(leased.tokens, fresh);
    return this.#commit(provider, leased, owner, merged, options);
  }

  /** Stores the refreshed credentials; retried until stored, since the old refresh token is spent. */
  async #commit(
    provider: ResolvedProvider,
    leased: Connection,
    owner: string,
    tokens: TokenSet,
    options: GetFreshTokenOptions,
  ): Promise<Attempt> {
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
        this.#metric('RefreshSucceeded', 1, leased.integration);
        this.#audit(leased, 'ok');
        return { kind: 'refreshed', connection: { ...committed, lastVendedAt } };
      } catch (e) {
        if (e instanceof VersionConflictError) {
          const current = await this.#deps.store.get(leased, { consistent: true });
          if (current && current.version === leased.version && !force) {
            // Our lease lapsed and was taken, but nobody has stored newer credentials: ours are the live
            // ones (the vendor just rotated), so store them over the version we replaced.
            force = true;
            continue;
          }
          return { kind: 'superseded', current };
        }
        if (this.#nowMs() >= deadlineMs) {
          this.#metric('RefreshFailed', 1, leased.integration, 'store');
          this.#audit(leased, 'store');
          throw new RefreshUnavailableError(
            `could not store refreshed credentials of ${leased.integration}`,
            { retryAfterSeconds: 1, cause: e },
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

  /**
   * Records a failed refresh on the connection: `invalid_grant` marks it `needs_reauth`; every other vendor
   * failure releases the lease with a not-before time (the vendor's Retry-After, else the backoff), which also
   * moves the planner's `refreshDueAt` there.
   */
  async #failRefresh(leased: Connection, owner: string, error: unknown): Promise<Attempt> {
    const { integration } = leased;
    const now = this.#now();
    const failure = classify(error);
    this.#metric('RefreshFailed', 1, integration, failure);
    this.#audit(leased, failure);
    const stored: ConnectionFailure = { code: failure, message: FAILURE_WORDS[failure], at: now };
    if (error instanceof InvalidGrantError) {
      await this.#markUnusable(leased, 'invalid_grant', stored);
      return {
        kind: 'reauth',
        error: new NeedsReauthError(integration, 'invalid_grant', { cause: error, grant: leased.grant }),
      };
    }
    const retryAt = now + this.#retryAfter(error, leased.failureCount);
    // Only the vendor's own answer (or silence) makes everyone wait; a failure on our side before anything was
    // sent (a secret that could not be read, a lease too short to send safely) lets the next caller try.
    const vendorAnswered = error instanceof VendorError;
    await this.#deps.store.releaseLease(leased, {
      owner,
      failure: stored,
      notBefore: vendorAnswered ? retryAt : undefined,
      refreshDueAt: retryAt,
    });
    await this.#publish(leased, 'connection.refresh_failed', failure);
    return { kind: 'failed', error, failure, notBefore: vendorAnswered ? retryAt : now + 1 };
  }

  /**
   * Seconds before anyone may call the vendor again: its Retry-After (429 or 503) up to the cap, else a
   * capped exponential backoff with full jitter over the consecutive failures, never under 1 s.
   */
  #retryAfter(error: unknown, failureCount: number): number {
    const cap = this.options.backoffCapSeconds;
    const vendorSaid =
      error instanceof RateLimitedError || error instanceof VendorUnavailableError
        ? error.retryAfterSeconds
        : undefined;
    if (vendorSaid !== undefined) return Math.max(1, Math.min(cap, vendorSaid));
    const ceiling = Math.min(cap, this.options.backoffBaseSeconds * 2 ** Math.min(failureCount, 20));
    return Math.max(1, Math.ceil(this.#random() * ceiling));
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
      return;
    }
    await this.#publish(connection, 'connection.needs_reauth', reason);
  }

  async #publish(
    connection: { integration: string; subject: string },
    type: ConnectionEvent['type'],
    reason: string,
  ): Promise<void> {
    await this.#deps.events?.publish({
      type,
      integration: connection.integration,
      subject: connection.subject,
      reason,
      time: this.#now(),
    });
  }

  /** One audit record per vendor refresh, succeeded or failed (the actor is whoever's request caused it). */
  #audit(connection: { integration: string; subject: string }, outcome: string): void {
    this.#deps.audit?.write({
      action: 'refresh',
      outcome,
      integration: connection.integration,
      subject: connection.subject,
    });
  }

  #metric(
    name: Parameters<Telemetry['metric']>[0],
    value: number,
    integration: string,
    failure?: RefreshFailureClass,
  ): void {
    this.#deps.telemetry?.metric(name, value, {
      integration,
      ...(failure === undefined ? {} : { class: failure }),
    });
  }
}

/** The base64url SHA-256 of an access token: how a caller names the token the vendor refused. */
export async function accessTokenHash(accessToken: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(accessToken));
  return Buffer.from(digest).toString('base64url');
}

function assertUsable(connection: Connection): void {
  if (connection.status === 'needs_reauth') {
    throw new NeedsReauthError(connection.integration, connection.reason ?? 'invalid_grant', {
      grant: connection.grant,
    });
  }
  if (connection.status === 'revoked') throw new NotConnectedError(connection.integration);
}

/** Whether the access token has any time left at all (what a connection backing off may still hand out). */
function isUnexpired(tokens: Pick<TokenSet, 'expiresAt'>, now: number): boolean {
  return tokens.expiresAt === undefined || tokens.expiresAt > now;
}

function backingOff(integration: string, seconds: number, cause?: unknown): RefreshUnavailableError {
  return new RefreshUnavailableError(`${integration} is not available right now; try again later`, {
    retryAfterSeconds: Math.max(1, seconds),
    cause,
  });
}

/** The failure class of a refresh error: what is stored, counted and published (never the vendor's text). */
function classify(error: unknown): RefreshFailureClass {
  if (error instanceof InvalidGrantError) return 'invalid_grant';
  if (error instanceof InvalidClientError) return 'invalid_client';
  if (error instanceof RateLimitedError) return 'rate_limited';
  if (error instanceof VendorUnavailableError)
    return error.outcomeUnknown ? 'outcome_unknown' : 'unavailable';
  if (error instanceof MalformedResponseError) return 'malformed_response';
  if (error instanceof VendorError) return 'rejected';
  // Not the vendor's answer (a secret that could not be read, ...): transient on our side.
  return 'unavailable';
}

/** Our own words for each failure class: the vendor's error_description is never stored. */
const FAILURE_WORDS: Record<RefreshFailureClass, string> = {
  invalid_grant: 'the vendor rejected the refresh token',
  invalid_client: 'the vendor rejected the client credentials, also after re-reading the secret',
  rate_limited: 'the vendor is rate limiting token requests',
  unavailable: 'the vendor token endpoint was unavailable',
  outcome_unknown: 'the vendor did not answer in time; the outcome is unknown',
  malformed_response: 'the vendor answered with a token response that could not be read',
  rejected: 'the vendor rejected the refresh request',
  store: 'the refreshed credentials could not be stored',
};
