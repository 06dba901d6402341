/**
 * The one table's layout, shared by the store adapters and the CDK stack (lib/). docs/data-model.md
 * explains every item kind. Key values are prefixed by kind so the kinds never collide, and user-supplied
 * parts (subject, assertion id, state) are encoded or hashed so no separator can be smuggled in.
 */
import { createHash } from 'node:crypto';

export const TABLE = {
  partitionKey: 'pk',
  sortKey: 'sk',
  /** DynamoDB TTL attribute (epoch seconds); every item kind sets it. */
  ttlAttribute: 'ttl',
} as const;

/**
 * The refresh-due index: sparse (only connections with a `refreshDueAt` carry `dueBucket`), partitioned by
 * time bucket x shard so that neither one bucket nor one partition is hot, sorted by due time.
 */
export const REFRESH_DUE_INDEX = {
  name: 'refresh-due',
  partitionKey: 'dueBucket',
  sortKey: 'refreshDueAt',
  /** Attributes the planner needs without reading the item. */
  projected: ['integration', 'subject', 'version', 'lastVendedAt', 'ttl'],
  /** Width of one time bucket. */
  bucketSeconds: 300,
  /** Shards per bucket. Writers and the planner must agree on both numbers. */
  shards: 8,
} as const;

/** Attribute names of a connection item. */
export const CONNECTION_ATTRIBUTES = {
  kind: 'kind',
  integration: 'integration',
  subject: 'subject',
  version: 'version',
  status: 'status',
  reason: 'reason',
  grant: 'grant',
  accessToken: 'accessToken',
  refreshToken: 'refreshToken',
  idToken: 'idToken',
  tokenType: 'tokenType',
  accessExpiresAt: 'accessExpiresAt',
  refreshExpiresAt: 'refreshExpiresAt',
  issuedAt: 'issuedAt',
  scopes: 'scopes',
  vendorSubject: 'vendorSubject',
  /** Non-secret template metadata (API base, data centre): a plain map of strings. */
  metadata: 'metadata',
  createdAt: 'createdAt',
  updatedAt: 'updatedAt',
  lastRefreshedAt: 'lastRefreshedAt',
  lastVendedAt: 'lastVendedAt',
  refreshDueAt: REFRESH_DUE_INDEX.sortKey,
  dueBucket: REFRESH_DUE_INDEX.partitionKey,
  failureCount: 'failureCount',
  notBefore: 'notBefore',
  lastError: 'lastError',
  leaseOwner: 'leaseOwner',
  leaseExpiresAtMs: 'leaseExpiresAtMs',
  ttl: TABLE.ttlAttribute,
} as const;

export const ITEM_KINDS = {
  connection: 'connection',
  connectState: 'connect_state',
  /** Per subject: the outstanding connect states (hash -> expiry), to cap them. */
  connectStateSlots: 'connect_state_slots',
  /** Tokens of a finished browser flow until the starting subject claims them. */
  parkedConnection: 'parked_connection',
  samlAssertion: 'saml_assertion',
  /** Who is obtaining a service connection's credentials now, and not before when after a failure. */
  obtain: 'obtain',
  /** Attempts of one subject at one integration's password check, per window (minutes). */
  attempts: 'attempts',
  /** An outstanding SP-initiated AuthnRequest ID (single use, minutes). */
  samlRequest: 'saml_request',
} as const;

function hash(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('base64url');
}

/** `pk = sub#<subject>`, `sk = conn#<integration>`: one Query lists a subject's connections. */
export function connectionKey(integration: string, subject: string): { pk: string; sk: string } {
  return { pk: subjectPartition(subject), sk: `conn#${encodeURIComponent(integration)}` };
}

export function subjectPartition(subject: string): string {
  return `sub#${encodeURIComponent(subject)}`;
}

export const CONNECTION_SORT_PREFIX = 'conn#';

/** The state is a bearer secret until consumed: only its hash is stored as the key. */
export function connectStateKey(state: string): { pk: string; sk: string } {
  return { pk: `state#${hash(state)}`, sk: 'state' };
}

/** The name of a state in its subject's slot map: the same hash as its key, never the state itself. */
export function connectStateSlot(state: string): string {
  return hash(state);
}

/** One item per subject listing its outstanding connect states (`slots`), so that they can be capped. */
export function connectStateSlotsKey(subject: string): { pk: string; sk: string } {
  return { pk: `stateslots#${hash(subject)}`, sk: 'stateslots' };
}

/** The obtain guard of one service connection (single flight and backoff); the key is hashed. */
export function obtainKey(key: string): { pk: string; sk: string } {
  return { pk: `obtain#${hash(key)}`, sk: 'obtain' };
}

/** A fixed-window attempt counter (the credentials route's password checks); the key is hashed. */
export function attemptsKey(key: string): { pk: string; sk: string } {
  return { pk: `attempts#${hash(key)}`, sk: 'attempts' };
}

/** The claim code is a bearer secret until claimed: only its hash is stored as the key. */
export function parkedConnectionKey(claimCode: string): { pk: string; sk: string } {
  return { pk: `parked#${hash(claimCode)}`, sk: 'parked' };
}

export function samlAssertionKey(integration: string, assertionId: string): { pk: string; sk: string } {
  return { pk: `saml#${encodeURIComponent(integration)}#${hash(assertionId)}`, sk: 'saml' };
}

/** A request ID is echoed back by the IdP in the clear, but it is still only stored as a hash. */
export function samlRequestKey(requestId: string): { pk: string; sk: string } {
  return { pk: `samlreq#${hash(requestId)}`, sk: 'samlreq' };
}

/** The index partition of a connection due at `dueAt`: stable shard per connection, bucket per time. */
export function dueBucketOf(integration: string, subject: string, dueAt: number): string {
  return dueBucketValue(bucketStart(dueAt), dueShard(integration, subject));
}

export function bucketStart(at: number): number {
  return Math.floor(at / REFRESH_DUE_INDEX.bucketSeconds) * REFRESH_DUE_INDEX.bucketSeconds;
}

export function dueShard(integration: string, subject: string): number {
  const digest = createHash('sha256').update(`${integration}\u0000${subject}`, 'utf8').digest();
  return digest.readUInt32BE(0) % REFRESH_DUE_INDEX.shards;
}

export function dueBucketValue(bucket: number, shard: number): string {
  return `${bucket}#${shard}`;
}
