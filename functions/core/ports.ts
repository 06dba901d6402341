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
