/**
 * The interfaces core logic needs from the outside world. Adapters implement them (AWS in the cloud,
 * embedded backends locally); handlers wire one instance of each per container.
 */
import type { ClientSecret } from './oauth/client-auth.js';

/** Names what a ciphertext belongs to; decrypting under another context must fail. */
export interface EncryptionContext {
  integration: string;
  subject: string;
  /** A connection's token column, or a parked token set waiting for its claim (never decrypts as a column). */
  kind: 'access_token' | 'refresh_token' | 'id_token' | 'parked_tokens';
}

/** Envelope encryption of tokens at rest (KMS in AWS, a local AES key in local mode and tests). */
export interface TokenCipher {
  /** Returns an opaque, self-describing string (version, wrapped data key, iv, ciphertext, tag). */
  encrypt(plaintext: string, context: EncryptionContext): Promise<string>;
  /** Throws a typed error when the ciphertext was not made under `context`. */
  decrypt(ciphertext: string, context: EncryptionContext): Promise<string>;
}

/** Where client secrets come from (Secrets Manager in AWS, the local config file locally). */
export interface SecretSource {
  /**
   * The client credentials of an integration. `refresh: true` bypasses the cache once, after the vendor
   * answered invalid_client (the secret may have been rotated).
   */
  getClientSecret(integration: string, options?: { refresh?: boolean }): Promise<ClientSecret>;
}

/** Epoch seconds; injected so tests control time. */
export type Clock = () => number;

/** Remembers SAML assertion IDs until they expire, across all Lambdas (a conditional put in DynamoDB). */
export interface AssertionReplayGuard {
  /**
   * Records `assertionId` for `integration` until `expiresAt` (epoch seconds). Returns false when the ID
   * was already recorded (a replay).
   */
  claim(integration: string, assertionId: string, expiresAt: number): Promise<boolean>;
}

/**
 * One connection the refresh planner found due: what the worker needs to find it again. Never a token; the
 * version lets the worker drop a message whose connection was refreshed since (duplicate delivery).
 */
export interface RefreshMessage {
  integration: string;
  subject: string;
  version: number;
  refreshDueAt: number;
}

/** Carries due connections from the planner to the worker (SQS in AWS, in memory locally). */
export interface RefreshQueue {
  /** Sends `messages` (batched by the adapter); resolves with those that could not be sent. */
  send(messages: readonly RefreshMessage[]): Promise<RefreshMessage[]>;
}

/** The closed set of connection events platform teams can route (EventBridge `detail-type`). */
export type ConnectionEventType =
  | 'connection.connected'
  | 'connection.refresh_failed'
  | 'connection.needs_reauth'
  | 'connection.disconnected';

/** What happened to a connection: names and codes only, never a token or a vendor's free text. */
export interface ConnectionEvent {
  type: ConnectionEventType;
  integration: string;
  subject: string;
  /** A code: the grant for `connected`, the failure class or reauth reason, `user` for a disconnect. */
  reason: string;
  /** Epoch seconds. */
  time: number;
}

/** Publishes connection events (EventBridge in AWS, a log line locally). Best effort: never throws. */
export interface ConnectionEventSink {
  publish(event: ConnectionEvent): Promise<void>;
}

/** The closed set of metrics the refresh pipeline and the lifecycle emit. */
export type MetricName =
  /** A vendor refresh that stored new credentials (dimension `integration`). */
  | 'RefreshSucceeded'
  /** A vendor refresh that failed (dimensions `integration`, `class`). */
  | 'RefreshFailed'
  /** Seconds between a connection's `refreshDueAt` and the worker's refresh of it. */
  | 'RefreshLagSeconds'
  /** A refresh found the lease held by another caller. */
  | 'LeaseContended'
  /** Due connections one planner run found and sent (one value per run). */
  | 'PlannerBatchSize'
  /** Due connections the planner could not send. */
  | 'PlannerSendFailed';

/** Failure classes of a refresh (the `class` dimension of `RefreshFailed`). */
export type RefreshFailureClass =
  | 'invalid_grant'
  | 'invalid_client'
  | 'rate_limited'
  | 'unavailable'
  | 'outcome_unknown'
  | 'malformed_response'
  | 'rejected'
  | 'store';

/** Metrics (Powertools EMF in AWS, nothing locally unless a test listens). Never throws. */
export interface Telemetry {
  metric(
    name: MetricName,
    value: number,
    dimensions?: { integration?: string; class?: RefreshFailureClass },
  ): void;
}

/**
 * Single flight and backoff for obtaining credentials that no refresh token renews (a service connection's client
 * credentials, first or after expiry): one caller at a time asks the vendor, and after a vendor failure nobody
 * does before its Retry-After (or a short backoff).
 */
export interface ObtainGuard {
  /**
   * Takes the right to ask the vendor for `key` for `leaseMs`. Refused while another owner holds it, or until
   * `notBefore` (epoch seconds) after a failure.
   */
  acquire(
    key: string,
    owner: string,
    leaseMs: number,
  ): Promise<{ acquired: true } | { acquired: false; notBefore?: number | undefined }>;
  /** Gives the right back; with `notBefore`, nobody may ask the vendor for `key` before then. */
  release(key: string, owner: string, notBefore?: number): Promise<void>;
}

/** Counts attempts per key in fixed windows: the per-user credentials check, against password guessing. */
export interface AttemptLimiter {
  /**
   * Takes one attempt. Refused when `max` were already taken in the current window, with the seconds until it
   * ends; a refused attempt does not count.
   */
  take(
    key: string,
    options: { max: number; windowSeconds: number },
  ): Promise<{ allowed: true } | { allowed: false; retryAfterSeconds: number }>;
}

/**
 * What the audit trail records: every action on a connection, once. A closed set, so a query can list them
 * (docs/audit.md).
 */
export type AuditAction =
  | 'connect'
  | 'callback'
  | 'claim'
  | 'credentials'
  | 'saml_login'
  | 'saml_exchange'
  | 'vend'
  | 'vend_on_behalf'
  | 'service_vend'
  | 'token_exchange'
  | 'proxy'
  | 'refresh'
  | 'disconnect';

/**
 * One audit record as core knows it: who did what to which connection, and how it ended. The handler layer
 * adds the time, request id, source IP and user agent. Never a token, code, assertion or vendor text.
 */
export interface AuditEntry {
  action: AuditAction;
  /** `ok`, or the error code of the answer (`invalid_grant`, `needs_reauth`, a refresh failure class). */
  outcome: string;
  integration?: string | undefined;
  /** The connection's subject (`user:<namespace>:<sub>`, `service:<name>`). */
  subject?: string | undefined;
  /** Who acted: the caller's subject, an IAM principal ARN, or `tokenvend` (the scheduled refresh). */
  actor?: string | undefined;
}

/** Writes audit records (a dedicated CloudWatch log group in AWS, a file locally). Never throws. */
export interface AuditSink {
  write(entry: AuditEntry): void;
}

/** Bump when the record's shape changes; queries select on it. */
export const AUDIT_FORMAT = 'tokenvend.audit/1';

/** An audit record as written: never a token, code, assertion or vendor text. */
export interface AuditRecord extends AuditEntry {
  format: typeof AUDIT_FORMAT;
  /** ISO 8601, milliseconds. */
  time: string;
  requestId?: string | undefined;
  sourceIp?: string | undefined;
  userAgent?: string | undefined;
  /** The HTTP status of the answer (route records only). */
  status?: number | undefined;
}

/** Where records go. `send` may be slow (a network call); it must not throw. */
export interface AuditTransport {
  send(records: readonly AuditRecord[]): Promise<void>;
}
