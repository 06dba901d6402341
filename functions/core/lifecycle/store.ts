/**
 * The ports the token lifecycle needs from storage. The DynamoDB adapter implements them
 * (functions/adapters/dynamodb); docs/data-model.md describes the item layout and the lease protocol.
 *
 * Times are epoch seconds except lease expiries, which are epoch milliseconds so that a lease can be
 * shorter than a second in tests and compared precisely against a vendor timeout.
 */
import type { TokenSet } from '../token-set.js';

export interface ConnectionKey {
  integration: string;
  subject: string;
}

/**
 * `refreshing` is reported while an unexpired lease is held; a lease that expired reads as `connected`
 * again (its holder died). `needs_reauth` and `revoked` are sticky until a new connection replaces them.
 */
export type ConnectionStatus = 'connected' | 'refreshing' | 'needs_reauth' | 'revoked';

/** The last failure of a refresh: its class and our own words, never a token or a vendor's free text. */
export interface ConnectionFailure {
  /** The failure class (`invalid_grant`, `rate_limited`, `outcome_unknown`, ...). */
  code: string;
  /** Fixed wording for the class. */
  message: string;
  at: number;
}

export interface Lease {
  owner: string;
  /** Epoch milliseconds. */
  expiresAtMs: number;
}

/** How much of the stored secrets a read decrypts. The vend path needs only the access token. */
export type SecretsToRead = 'access' | 'all';

export interface Connection extends ConnectionKey {
  /** Incremented by every write of credentials (new connection, refresh); leases do not change it. */
  version: number;
  status: ConnectionStatus;
  /** Set with `needs_reauth` / `revoked`. */
  reason?: string | undefined;
  /** The grant that created the connection (`authorization_code`, `saml2_bearer`, ...). */
  grant: string;
  /**
   * The credentials. `refreshToken` and `idToken` are present only when the read asked for `all`
   * secrets; `hasRefreshToken` tells whether one is stored either way.
   */
  tokens: TokenSet;
  hasRefreshToken: boolean;
  createdAt: number;
  updatedAt: number;
  lastRefreshedAt?: number | undefined;
  /** Last time a caller was handed a token (recorded coarsely, see `touch`). */
  lastVendedAt?: number | undefined;
  /** When the scheduled refresh should next look at this connection; undefined = never (not indexed). */
  refreshDueAt?: number | undefined;
  /** The item's TTL (epoch seconds); undefined = kept until deleted. */
  expiresAt?: number | undefined;
  /** Consecutive failed refreshes; reset by a successful one. */
  failureCount: number;
  /**
   * After a failed refresh: nobody calls the vendor for this connection before this time (epoch seconds), the
   * vendor's Retry-After or the backoff. Cleared by a successful refresh or a new consent.
   */
  notBefore?: number | undefined;
  lastError?: ConnectionFailure | undefined;
  lease?: Lease | undefined;
}

/** What creating (or replacing) a connection writes. */
export interface NewConnection extends ConnectionKey {
  grant: string;
  tokens: TokenSet;
  now: number;
  refreshDueAt?: number | undefined;
  expiresAt?: number | undefined;
  lastVendedAt?: number | undefined;
}

/** A connection the refresh planner should look at (what the refresh-due index projects). */
export interface DueConnection extends ConnectionKey {
  refreshDueAt: number;
  version: number;
  lastVendedAt?: number | undefined;
}

export interface ConnectionStore {
  /** The connection, or undefined when absent or past its TTL (DynamoDB deletes lazily). */
  get(
    key: ConnectionKey,
    options?: { consistent?: boolean; secrets?: SecretsToRead },
  ): Promise<Connection | undefined>;

  /**
   * Stores the credentials of a new consent, replacing whatever is stored for the key: the version becomes
   * the stored one + 1 and any lease, failure or needs_reauth state is cleared, so that a refresh still in
   * flight on the old credentials fails its version check instead of overwriting the new ones.
   */
  put(connection: NewConnection): Promise<Connection>;

  /**
   * Takes the refresh lease if the stored version is `version`, no unexpired lease is held, the connection
   * is usable and not backing off (`notBefore` passed). Returns the leased connection with all secrets (read atomically with the
   * condition), or undefined when the condition failed (someone else won or the version moved).
   */
  acquireLease(
    key: ConnectionKey,
    lease: { version: number; owner: string; expiresAtMs: number; nowMs: number },
  ): Promise<Connection | undefined>;

  /**
   * Writes refreshed credentials with version + 1, clears the lease, the failure count and the last error.
   * Conditional on `version` and (unless `force`) on the lease still being `owner`'s; throws
   * {@link VersionConflictError} otherwise.
   */
  commitRefresh(
    key: ConnectionKey,
    update: {
      version: number;
      owner: string;
      force?: boolean;
      tokens: TokenSet;
      now: number;
      lastVendedAt?: number | undefined;
      refreshDueAt?: number | undefined;
      expiresAt?: number | undefined;
    },
  ): Promise<Connection>;

  /**
   * Gives the lease back without new credentials, recording `failure` (failure count + 1) and `notBefore`
   * when given and moving `refreshDueAt` (retry backoff for the planner). A lease owned by someone else is
   * left alone.
   */
  releaseLease(
    key: ConnectionKey,
    release: {
      owner: string;
      failure?: ConnectionFailure | undefined;
      notBefore?: number | undefined;
      refreshDueAt?: number | undefined;
    },
  ): Promise<void>;

  /**
   * Marks the connection `needs_reauth` (or `revoked`) with a reason, drops it from the refresh-due index and
   * clears the lease. Conditional on `version`; tokens stay stored (nothing is erased).
   */
  markUnusable(
    key: ConnectionKey,
    mark: {
      version: number;
      status: 'needs_reauth' | 'revoked';
      reason: string;
      failure?: ConnectionFailure | undefined;
      expiresAt?: number | undefined;
    },
  ): Promise<void>;

  /**
   * Records that a token was vended (and the schedule that follows from it). Conditional on `version`;
   * returns false when the version moved (the caller just skips: the next vend records it).
   */
  touch(
    key: ConnectionKey,
    touch: { version: number; lastVendedAt: number; refreshDueAt?: number | undefined },
  ): Promise<boolean>;

  /** Deletes the connection; with `version`, only that version (false when it moved). */
  delete(key: ConnectionKey, options?: { version?: number }): Promise<boolean>;

  /** All live connections of one subject (access token decrypted only). */
  listBySubject(subject: string): Promise<Connection[]>;

  /**
   * Connections whose `refreshDueAt` lies in `[from, to]`, from the sharded refresh-due index (a bounded
   * number of Queries, never a Scan). Items past their TTL are left out.
   */
  queryDue(range: { from: number; to: number; now: number; limit?: number }): Promise<DueConnection[]>;
}

/** A connect-flow state record (single use, short TTL): everything the callback needs to finish the flow. */
export interface ConnectFlowState {
  integration: string;
  subject: string;
  redirectUri: string;
  codeVerifier?: string | undefined;
  returnTo?: string | undefined;
  nonce?: string | undefined;
  createdAt: number;
}

/** What storing a connect-flow state did: stored, or refused because the subject has too many outstanding. */
export type ConnectStatePut =
  | { stored: true }
  /** `freeAt`: when the earliest of the subject's outstanding states expires (epoch seconds). */
  | { stored: false; freeAt: number };

export interface ConnectFlowStateStore {
  /**
   * Stores `record` under `state` until `expiresAt` (epoch seconds). Throws if `state` already exists. With
   * `maxPerSubject`, stores nothing when `record.subject` already has that many unexpired, unconsumed states.
   */
  put(
    state: string,
    record: ConnectFlowState,
    expiresAt: number,
    options?: { maxPerSubject?: number },
  ): Promise<ConnectStatePut>;
  /** Atomically removes and returns the record; undefined when absent, already consumed or expired. */
  consume(state: string): Promise<ConnectFlowState | undefined>;
}

/**
 * Tokens of a finished browser flow, waiting for the subject that started it to claim them (DESIGN flow 1):
 * whoever signed in at the vendor, only the starting subject's own JWT turns them into its connection.
 */
export interface ParkedConnection {
  integration: string;
  /** The subject that started the flow (`POST /connect`): the only one that may claim. */
  subject: string;
  grant: string;
  tokens: TokenSet;
  createdAt: number;
}

/** What a claim found under a claim code. `expired`: past its TTL (DynamoDB deletes lazily), now removed. */
export type ParkedClaim = { parked: ParkedConnection; expired: boolean };

export interface ParkedConnectionStore {
  /**
   * Stores `parked` (tokens encrypted under integration + starting subject) under a hash of `claimCode` until
   * `expiresAt` (epoch seconds). Throws if the code already exists.
   */
  park(claimCode: string, parked: ParkedConnection, expiresAt: number): Promise<void>;
  /**
   * Atomically removes and returns what is parked under `claimCode` for `integration` (single use: of any
   * number of concurrent claims exactly one gets it); undefined when unknown, already claimed or parked for
   * another integration (then it stays). An expired record is removed and returned with `expired: true`, so
   * its tokens can still be revoked.
   */
  consume(claimCode: string, integration: string, now: number): Promise<ParkedClaim | undefined>;
}
