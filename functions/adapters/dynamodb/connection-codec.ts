/**
 * Connection items <-> {@link Connection}: token columns are encrypted with the injected cipher under the
 * context {integration, subject, kind}, so a ciphertext copied to another row or column fails to decrypt.
 */
import type { Connection, ConnectionStatus, SecretsToRead } from '../../core/lifecycle/store.js';
import type { EncryptionContext, TokenCipher } from '../../core/ports.js';
import type { TokenSet } from '../../core/token-set.js';
import { CONNECTION_ATTRIBUTES as A } from './schema.js';

export type Item = Record<string, unknown>;

type TokenKind = EncryptionContext['kind'];

const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

function stringMap(value: unknown): Record<string, string> | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const entries = Object.entries(value).filter((e): e is [string, string] => typeof e[1] === 'string');
  return entries.length ? Object.fromEntries(entries) : undefined;
}

/** Whether a TTL'd item is past its expiry (DynamoDB deletes lazily, up to days later). */
export function isExpired(item: Item, now: number): boolean {
  const ttl = num(item[A.ttl]);
  return ttl !== undefined && ttl <= now;
}

/** The token columns of `tokens`, encrypted; absent tokens map to undefined (the column is removed). */
export async function encryptTokens(
  cipher: TokenCipher,
  integration: string,
  subject: string,
  tokens: TokenSet,
): Promise<Item> {
  const seal = (value: string | undefined, kind: TokenKind) =>
    value === undefined ? undefined : cipher.encrypt(value, { integration, subject, kind });
  const [accessToken, refreshToken, idToken] = await Promise.all([
    seal(tokens.accessToken, 'access_token'),
    seal(tokens.refreshToken, 'refresh_token'),
    seal(tokens.idToken, 'id_token'),
  ]);
  return {
    [A.accessToken]: accessToken,
    [A.refreshToken]: refreshToken,
    [A.idToken]: idToken,
    [A.tokenType]: tokens.tokenType,
    [A.accessExpiresAt]: tokens.expiresAt,
    [A.refreshExpiresAt]: tokens.refreshToken ? tokens.refreshExpiresAt : undefined,
    [A.issuedAt]: tokens.issuedAt,
    [A.scopes]: tokens.scopes,
    [A.vendorSubject]: tokens.subject,
    [A.metadata]: tokens.metadata,
  };
}

/** Reads a connection item; decrypts the access token, and the refresh and id tokens for `all`. */
export async function decodeConnection(
  cipher: TokenCipher,
  item: Item,
  secrets: SecretsToRead,
  nowMs: number,
): Promise<Connection> {
  const integration = String(item[A.integration]);
  const subject = String(item[A.subject]);
  const open = (column: string, kind: TokenKind) => {
    const sealed = str(item[column]);
    return sealed === undefined ? undefined : cipher.decrypt(sealed, { integration, subject, kind });
  };
  const [accessToken, refreshToken, idToken] = await Promise.all([
    open(A.accessToken, 'access_token'),
    secrets === 'all' ? open(A.refreshToken, 'refresh_token') : undefined,
    secrets === 'all' ? open(A.idToken, 'id_token') : undefined,
  ]);
  const leaseOwner = str(item[A.leaseOwner]);
  const leaseExpiresAtMs = num(item[A.leaseExpiresAtMs]);
  const leased = leaseOwner !== undefined && leaseExpiresAtMs !== undefined;
  let status = (str(item[A.status]) ?? 'connected') as ConnectionStatus;
  // `refreshing` is only true while the lease lasts; a dead holder's lease reads as connected.
  if (status === 'refreshing' && !(leased && leaseExpiresAtMs > nowMs)) status = 'connected';
  const lastError = item[A.lastError] as Connection['lastError'] | undefined;
  const scopes = item[A.scopes];
  return {
    integration,
    subject,
    version: num(item[A.version]) ?? 0,
    status,
    reason: str(item[A.reason]),
    grant: str(item[A.grant]) ?? 'authorization_code',
    tokens: {
      accessToken: accessToken ?? '',
      tokenType: str(item[A.tokenType]) ?? 'Bearer',
      expiresAt: num(item[A.accessExpiresAt]),
      refreshToken,
      refreshExpiresAt: num(item[A.refreshExpiresAt]),
      scopes: Array.isArray(scopes) ? scopes.filter((s): s is string => typeof s === 'string') : undefined,
      subject: str(item[A.vendorSubject]),
      metadata: stringMap(item[A.metadata]),
      idToken,
      issuedAt: num(item[A.issuedAt]) ?? 0,
    },
    hasRefreshToken: str(item[A.refreshToken]) !== undefined,
    createdAt: num(item[A.createdAt]) ?? 0,
    updatedAt: num(item[A.updatedAt]) ?? 0,
    lastRefreshedAt: num(item[A.lastRefreshedAt]),
    lastVendedAt: num(item[A.lastVendedAt]),
    refreshDueAt: num(item[A.refreshDueAt]),
    expiresAt: num(item[A.ttl]),
    failureCount: num(item[A.failureCount]) ?? 0,
    notBefore: num(item[A.notBefore]),
    lastError: lastError && typeof lastError === 'object' ? lastError : undefined,
    lease: leased ? { owner: leaseOwner, expiresAtMs: leaseExpiresAtMs } : undefined,
  };
}
