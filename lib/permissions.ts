/**
 * Least privilege per function: exactly the DynamoDB actions and the KMS uses its code makes, read off the
 * store adapters (functions/adapters/dynamodb/) and the flows that call them. routes.ts says in broad strokes
 * what each API function may touch (`table`, `key`); this file is the precise grant, and the stack refuses a
 * function that has none here or whose grant is broader than routes.ts allows.
 *
 * Store operation -> DynamoDB action (and KMS):
 * - ConnectionStore.get: GetItem (Decrypt of the access token; refresh and id token for `secrets: 'all'`)
 * - ConnectionStore.put / acquireLease / commitRefresh / releaseLease / markUnusable / touch: UpdateItem
 *   (put and commitRefresh encrypt: GenerateDataKey; put, acquireLease and commitRefresh decrypt the result)
 * - ConnectionStore.delete: DeleteItem; listBySubject: Query (table); queryDue: Query (refresh-due index)
 * - ConnectStateStore.put: GetItem + PutItem (the subject's slots), PutItem (the state); consume: DeleteItem,
 *   UpdateItem (releases the slot)
 * - ParkedConnectionStore.park: PutItem (GenerateDataKey, kind `parked_tokens`); consume: DeleteItem (Decrypt)
 * - AssertionReplayGuard.claim: PutItem
 * - SamlRequestStore.put: PutItem; consume: UpdateItem
 */
import { REFRESH_DUE_INDEX } from '../functions/adapters/dynamodb/schema.js';
import type { EncryptionContext } from '../functions/core/ports.js';
import type { FunctionSpec } from '../functions/handlers/routes.js';

export type DynamoAction =
  | 'dynamodb:GetItem'
  | 'dynamodb:PutItem'
  | 'dynamodb:UpdateItem'
  | 'dynamodb:DeleteItem'
  | 'dynamodb:Query';

/** Exactly these DynamoDB actions, on the table itself or on one of its indexes (never `index/*`). */
export interface TableActions {
  readonly actions: readonly DynamoAction[];
  /** Index name: the actions apply to `<table ARN>/index/<index>` only, not to the table. */
  readonly index?: string;
}

export type KmsAction = 'kms:Decrypt' | 'kms:GenerateDataKey';

/** The `kind` of the encryption context the cipher sends (core/ports.ts). */
export type TokenKind = EncryptionContext['kind'];

/** Whose tokens: end users (`user:<namespace>:<claim>`) or service connections (`service:<name>`). */
export type SubjectSpace = 'user' | 'service';

/**
 * A use of the token key, always under the cipher's encryption context {integration, subject, kind}: the
 * statement allows only those context keys, only this deployment's integrations, these kinds and subjects.
 */
export interface KeyUse {
  readonly actions: readonly KmsAction[];
  readonly kinds: readonly TokenKind[];
  readonly subjects: readonly SubjectSpace[];
}

export interface FunctionAccess {
  /** One statement each (the table, or an index). Empty: no table access. */
  readonly table: readonly TableActions[];
  readonly key?: KeyUse;
}

const CONNECTION_KINDS: readonly TokenKind[] = ['access_token', 'refresh_token', 'id_token'];
const BOTH: readonly KmsAction[] = ['kms:Decrypt', 'kms:GenerateDataKey'];

/**
 * Reads and refreshes a connection (single-flight under a lease), writes a new one: GetItem, UpdateItem;
 * decrypts and re-encrypts every token kind.
 */
const refreshing = (subjects: readonly SubjectSpace[]): FunctionAccess => ({
  table: [{ actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'] }],
  key: { actions: BOTH, kinds: CONNECTION_KINDS, subjects },
});

/** API functions by handler entry (routes.ts `FUNCTIONS`). */
export const API_ACCESS: Readonly<Record<string, FunctionAccess>> = {
  health: { table: [] },
  // ConnectStateStore.put with the per-subject cap. No tokens yet.
  connect: { table: [{ actions: ['dynamodb:GetItem', 'dynamodb:PutItem'] }] },
  // ConnectStateStore.consume, then ParkedConnectionStore.park: encrypts the parked set, decrypts nothing.
  'oauth-callback': {
    table: [{ actions: ['dynamodb:DeleteItem', 'dynamodb:UpdateItem', 'dynamodb:PutItem'] }],
    key: { actions: ['kms:GenerateDataKey'], kinds: ['parked_tokens'], subjects: ['user'] },
  },
  // ParkedConnectionStore.consume (decrypts the parked set), TokenLifecycle.storeNewConnection (put).
  'connect-claim': {
    table: [{ actions: ['dynamodb:DeleteItem', 'dynamodb:UpdateItem'] }],
    key: { actions: BOTH, kinds: ['parked_tokens', ...CONNECTION_KINDS], subjects: ['user'] },
  },
  // TokenLifecycle.storeNewConnection (put) of the user's own Basic credentials: the item it writes holds an
  // access token only (put removes any refresh and id token in the same update), so that is all it decrypts.
  'connect-credentials': {
    table: [{ actions: ['dynamodb:UpdateItem'] }],
    key: { actions: BOTH, kinds: ['access_token'], subjects: ['user'] },
  },
  // AssertionReplayGuard.claim (PutItem), TokenLifecycle.storeNewConnection (put); SP-initiated login stores and
  // consumes the AuthnRequest ID (PutItem, UpdateItem) and a frontend-started sign-in parks the tokens for the
  // claim (PutItem, GenerateDataKey under `parked_tokens`).
  'saml-acs': {
    table: [{ actions: ['dynamodb:PutItem', 'dynamodb:UpdateItem'] }],
    key: { actions: BOTH, kinds: ['parked_tokens', ...CONNECTION_KINDS], subjects: ['user'] },
  },
  // TokenLifecycle.getFreshToken.
  vend: refreshing(['user']),
  // TokenLifecycle.getFreshToken, as vend (and once more with the refused token's hash after a vendor 401).
  proxy: refreshing(['user']),
  // RFC 8693 token exchange: TokenLifecycle.getFreshToken for the subject_token's user, exactly as vend.
  'token-exchange': refreshing(['user']),
  // RFC 8414 metadata from the configuration only.
  'oauth-metadata': { table: [] },
  // listBySubject (Query on the table), get with every token (to revoke), delete. Never writes tokens.
  connections: {
    table: [{ actions: ['dynamodb:Query', 'dynamodb:GetItem', 'dynamodb:DeleteItem'] }],
    key: { actions: ['kms:Decrypt'], kinds: CONNECTION_KINDS, subjects: ['user'] },
  },
  // getFreshToken, else obtain tokens and storeNewConnection (put) for the service connection.
  'service-vend': refreshing(['service']),
};

/** The refresh planner: reads the due connections from the refresh-due index only. */
export const PLANNER_ACCESS: FunctionAccess = {
  table: [{ actions: ['dynamodb:Query'], index: REFRESH_DUE_INDEX.name }],
};

/** The refresh worker: TokenLifecycle.refreshScheduled for users' and service connections. */
export const WORKER_ACCESS: FunctionAccess = refreshing(['user', 'service']);

const READ_ACTIONS: ReadonlySet<DynamoAction> = new Set(['dynamodb:GetItem', 'dynamodb:Query']);

/**
 * The precise access of an API function, checked against routes.ts's broad one: a function without an entry
 * here, or with more than routes.ts allows, fails the synth (a new route must be given its grant here).
 */
export function apiAccess(spec: FunctionSpec): FunctionAccess {
  const access = Object.hasOwn(API_ACCESS, spec.entry) ? API_ACCESS[spec.entry] : undefined;
  if (!access) {
    throw new Error(
      `lib/permissions.ts: no DynamoDB/KMS grant for the function ${spec.entry}: add its exact actions to API_ACCESS`,
    );
  }
  const actions = access.table.flatMap((t) => t.actions);
  const tableOk =
    spec.table === 'readWrite' ||
    (spec.table === 'read' && actions.every((a) => READ_ACTIONS.has(a))) ||
    (spec.table === 'none' && actions.length === 0);
  const keyActions = access.key?.actions ?? [];
  const keyOk =
    spec.key === 'encryptDecrypt' ||
    (spec.key === 'decrypt' && keyActions.every((a) => a === 'kms:Decrypt')) ||
    (spec.key === 'none' && keyActions.length === 0);
  if (!tableOk || !keyOk) {
    throw new Error(
      `lib/permissions.ts: the grant of ${spec.entry} exceeds routes.ts (table: ${spec.table}, key: ${spec.key})`,
    );
  }
  return access;
}
