/**
 * Reading vendor token responses through a template's response mapping: field paths or name regexes,
 * numbers sent as strings, relative or absolute expiries, JWT `exp` fallback, token type normalisation.
 * https://www.rfc-editor.org/rfc/rfc6749#section-5.1
 */
import { decodeJwt } from 'jose';
import { MalformedResponseError } from '../errors.js';
import type { FieldSelector, ResponseMapping } from '../provider/schema.js';
import type { TokenSet } from '../token-set.js';

type Json = Record<string, unknown>;

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Picks a field by dot path (`data.token`) or by a regex over top-level field names (`refresh.[tT]oken`). */
export function selectField(body: Json, selector: FieldSelector): unknown {
  if (typeof selector === 'object' && 'match' in selector) {
    const re = new RegExp(`^(?:${selector.match})$`, 'u');
    const key = Object.keys(body).find((k) => re.test(k));
    return key === undefined ? undefined : body[key];
  }
  const path = typeof selector === 'string' ? selector : selector.path;
  let current: unknown = body;
  for (const part of path.split('.')) {
    if (!isRecord(current) || !Object.hasOwn(current, part)) return undefined;
    current = current[part];
  }
  return current;
}

function describe(selector: FieldSelector): string {
  if (typeof selector === 'string') return selector;
  return 'path' in selector ? selector.path : `/${selector.match}/`;
}

function malformed(message: string): MalformedResponseError {
  return new MalformedResponseError(message, { error: 'server_error', status: 502 });
}

/** `1799`, `"1799"` -> 1799; anything else -> undefined (the caller decides whether that is an error). */
export function toNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  // A string of 400 digits is Infinity: finite only, like JSON numbers.
  if (typeof value === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(value)) {
    const n = Number(value);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

/** Normalises vendor token types: `bearer`, `BearerToken` -> `Bearer`; `basic` -> `Basic`. */
export function normaliseTokenType(value: string): string {
  if (/^bearer(?:[-_ ]?token)?$/i.test(value)) return 'Bearer';
  if (/^basic$/i.test(value)) return 'Basic';
  return value;
}

function readExpiry(
  body: Json,
  spec: NonNullable<ResponseMapping['refreshExpiresIn']>,
  now: number,
  what: string,
): number | undefined {
  const raw = selectField(body, spec.field);
  if (raw === undefined || raw === null || raw === '') return undefined;
  let at: number;
  if (spec.format === 'iso8601') {
    // Date.parse alone accepts "1" or "May 5"; insist on an ISO 8601 date.
    const ms = typeof raw === 'string' && ISO_DATE.test(raw) ? Date.parse(asUtc(raw)) : Number.NaN;
    if (Number.isNaN(ms)) throw malformed(`${what} (${describe(spec.field)}) is not an ISO 8601 date`);
    at = Math.floor(ms / 1000);
  } else {
    const n = toNumber(raw);
    if (n === undefined || n < 0)
      throw malformed(`${what} (${describe(spec.field)}) is not a non-negative number`);
    at =
      spec.format === 'relative'
        ? now + Math.floor(n)
        : spec.format === 'relative-millis'
          ? now + Math.floor(n / 1000)
          : spec.format === 'epoch-seconds'
            ? Math.floor(n)
            : Math.floor(n / 1000);
  }
  if (!plausibleTime(at)) throw malformed(`${what} (${describe(spec.field)}) is out of range`);
  return at;
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/i;

/** A date-time without a zone is read as UTC (Date.parse would use the machine's zone). */
function asUtc(iso: string): string {
  return /[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?$/i.test(iso) ? `${iso}Z` : iso;
}

/** Latest expiry we store: year 9999 (DynamoDB TTL and Date both break on larger values). */
const MAX_EPOCH_SECONDS = 253_402_300_799;

function plausibleTime(at: number): boolean {
  return Number.isSafeInteger(at) && at >= 0 && at <= MAX_EPOCH_SECONDS;
}

/** The `exp` claim of a JWT-shaped access token, unverified: it only tells us when to refresh. */
export function jwtExpiry(token: string): number | undefined {
  if (token.split('.').length !== 3) return undefined;
  try {
    const { exp } = decodeJwt(token);
    return typeof exp === 'number' && plausibleTime(Math.floor(exp)) ? Math.floor(exp) : undefined;
  } catch {
    return undefined;
  }
}

function readString(body: Json, selector: FieldSelector, what: string): string | undefined {
  const raw = selectField(body, selector);
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw === 'number') return String(raw);
  if (typeof raw !== 'string') throw malformed(`${what} (${describe(selector)}) is not a string`);
  return raw === '' ? undefined : raw;
}

/** Longest metadata value kept: an API base URL or an id, never a document. */
const MAX_METADATA_LENGTH = 1024;

/**
 * Checks one metadata value (from the token response or the callback URL): text (numbers as text), at most
 * {@link MAX_METADATA_LENGTH} characters, matching `pattern` when one is declared. Returns the problem, never
 * the value.
 */
export function metadataProblem(value: string, pattern: string | undefined): string | undefined {
  if (value.length > MAX_METADATA_LENGTH) return `is longer than ${MAX_METADATA_LENGTH} characters`;
  if (pattern !== undefined && !new RegExp(`^(?:${pattern})$`, 'u').test(value)) {
    return 'does not match the pattern the template declares';
  }
  return undefined;
}

function readMetadata(body: Json, mapping: ResponseMapping): Record<string, string> | undefined {
  const entries: [string, string][] = [];
  for (const [name, spec] of Object.entries(mapping.metadata)) {
    const withPattern = typeof spec === 'object' && 'field' in spec;
    const selector = withPattern ? spec.field : spec;
    const value = readString(body, selector, `metadata ${name}`);
    if (value === undefined) continue;
    const problem = metadataProblem(value, withPattern ? spec.pattern : undefined);
    if (problem) throw malformed(`metadata ${name} (${describe(selector)}) ${problem}`);
    entries.push([name, value]);
  }
  return entries.length ? Object.fromEntries(entries) : undefined;
}

export interface MappingDefaults {
  scopeDelimiter: string;
  defaultAccessTokenSeconds?: number | undefined;
  defaultRefreshTokenSeconds?: number | undefined;
}

/**
 * Maps a parsed token response body to a {@link TokenSet}. Throws {@link MalformedResponseError} naming the
 * field (never its value) when a required field is missing or of the wrong kind.
 */
export function mapTokenResponse(
  body: unknown,
  mapping: ResponseMapping,
  defaults: MappingDefaults,
  now: number,
): TokenSet {
  if (!isRecord(body)) throw malformed('token response is not a JSON object');
  const accessToken = readString(body, mapping.accessToken, 'access token');
  if (!accessToken) throw malformed(`token response has no access token (${describe(mapping.accessToken)})`);
  const tokenType = normaliseTokenType(
    readString(body, mapping.tokenType, 'token type') ?? mapping.defaultTokenType,
  );
  let expiresAt = readExpiry(body, mapping.expiresIn, now, 'expiry');
  if (expiresAt === undefined && mapping.expiryFromJwt) expiresAt = jwtExpiry(accessToken);
  if (expiresAt === undefined && defaults.defaultAccessTokenSeconds)
    expiresAt = now + defaults.defaultAccessTokenSeconds;
  const refreshToken = readString(body, mapping.refreshToken, 'refresh token');
  let refreshExpiresAt = mapping.refreshExpiresIn
    ? readExpiry(body, mapping.refreshExpiresIn, now, 'refresh expiry')
    : undefined;
  if (refreshToken && refreshExpiresAt === undefined && defaults.defaultRefreshTokenSeconds) {
    refreshExpiresAt = now + defaults.defaultRefreshTokenSeconds;
  }
  // Keycloak says `refresh_expires_in: 0` for offline tokens that do not expire.
  if (refreshExpiresAt !== undefined && refreshExpiresAt === now) refreshExpiresAt = undefined;
  const rawScope = selectField(body, mapping.scope);
  let scopes: string[] | undefined;
  if (typeof rawScope === 'string') scopes = rawScope.split(defaults.scopeDelimiter).filter(Boolean);
  else if (Array.isArray(rawScope)) scopes = rawScope.filter((s): s is string => typeof s === 'string');
  return {
    accessToken,
    tokenType,
    expiresAt,
    refreshToken,
    refreshExpiresAt: refreshToken ? refreshExpiresAt : undefined,
    scopes,
    subject: mapping.subject ? readString(body, mapping.subject, 'subject') : undefined,
    idToken: readString(body, mapping.idToken, 'id token'),
    metadata: readMetadata(body, mapping),
    issuedAt: now,
  };
}
