/**
 * The grant engine: one entry point per vendor interaction, each `build -> send -> process`.
 * Vendor HTTP goes through the injected fetch with a timeout; nothing here reads the environment or logs.
 */
import { createLocalJWKSet, decodeProtectedHeader, errors as jose, jwtVerify } from 'jose';
import {
  ConfigError,
  InvalidRequestError,
  MalformedResponseError,
  TokenvendError,
  VendorRejectedError,
  VendorUnavailableError,
} from '../errors.js';
import { interpolate, lookupFrom, MissingValueError } from '../provider/interpolate.js';
import type { ResolvedProvider } from '../provider/resolve.js';
import type { TokenSet } from '../token-set.js';
import { signedClient, signedRevokeClient } from './client-assertion.js';
import { applyClientAuth, type ClientSecret, hasCredentialFor } from './client-auth.js';
import type { FetchLike, HttpRequest } from './http.js';
import { selectField } from './response-mapping.js';
import { send } from './send.js';
import { buildTokenRequest, type GrantInput } from './token-request.js';
import { processTokenResponse, tokenErrorFor } from './token-response.js';

export interface EngineDeps {
  fetch: FetchLike;
  /** Per-request timeout; vendors answer token requests in well under a second. */
  timeoutMs?: number;
  /** Epoch seconds; injected so tests control time. */
  now?: () => number;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const nowSeconds = () => Math.floor(Date.now() / 1000);

/**
 * Runs one grant at the vendor's token endpoint and returns the mapped {@link TokenSet}. An `id_token` is
 * returned only where it can be checked: the authorization code grant of an OpenID Connect provider, whose
 * caller must pass it through {@link verifyIdToken} before storing it. Every other ID token is dropped, so an
 * unchecked one is never stored (a refresh keeps the checked one it had).
 */
export async function requestToken(
  provider: ResolvedProvider,
  input: GrantInput,
  client: ClientSecret,
  deps: EngineDeps,
): Promise<TokenSet> {
  const now = (deps.now ?? nowSeconds)();
  // JWTs of private_key_jwt and signed jwt_bearer assertions are signed here, fresh for this request.
  const request = buildTokenRequest(provider, input, await signedClient(provider, input, client, now));
  const response = await send(request, {
    fetch: deps.fetch,
    timeoutMs: deps.timeoutMs ?? DEFAULT_TIMEOUT_MS,
  });
  const tokens = processTokenResponse(provider, response, now);
  if (tokens.idToken === undefined || (input.grant === 'authorization_code' && isOidc(provider))) {
    return tokens;
  }
  return { ...tokens, idToken: undefined };
}

/** Whether the template declares OpenID Connect (`endpoints.jwks`): nonce sent, ID token checked. */
export function isOidc(provider: ResolvedProvider): boolean {
  return provider.endpoints.jwks !== undefined;
}

/** Signature algorithms an ID token may use: asymmetric only (no `none`, no HMAC with the client secret). */
export const ID_TOKEN_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
];

/** Clock skew allowed on `exp`, `iat` and `nbf`. */
const ID_TOKEN_CLOCK_TOLERANCE_SECONDS = 60;

/** The check an ID token failed; the answer names it in our own words, never a claim's value. */
export type IdTokenCheck =
  | 'missing'
  | 'malformed'
  | 'algorithm'
  | 'signature'
  | 'issuer'
  | 'audience'
  | 'authorized_party'
  | 'time'
  | 'nonce';

/** 400 `invalid_request`: the ID token failed `check`. The message is our own words; no claim value is kept. */
export class IdTokenRefusedError extends InvalidRequestError {
  readonly check: IdTokenCheck;

  constructor(check: IdTokenCheck) {
    super(`the vendor's ID token was refused (${check})`);
    this.check = check;
  }
}

function refused(check: IdTokenCheck): IdTokenRefusedError {
  return new IdTokenRefusedError(check);
}

function claimCheck(claim: string): IdTokenCheck {
  if (claim === 'iss') return 'issuer';
  if (claim === 'aud') return 'audience';
  if (claim === 'exp' || claim === 'iat' || claim === 'nbf') return 'time';
  return 'malformed';
}

/** The vendor's JWKS, fetched through the injected fetch (one GET per finished connect flow). */
async function fetchJwks(provider: ResolvedProvider, url: string, deps: EngineDeps) {
  const id = provider.template.id;
  const response = await send(
    { method: 'GET', url, headers: { accept: 'application/json' } },
    { fetch: deps.fetch, timeoutMs: deps.timeoutMs ?? DEFAULT_TIMEOUT_MS },
  );
  if (response.status >= 500) {
    throw new VendorUnavailableError(`${id} JWKS answered HTTP ${response.status}`, {
      error: 'temporarily_unavailable',
      status: 502,
      vendorStatus: response.status,
      outcomeUnknown: false,
    });
  }
  try {
    if (response.status !== 200) throw new Error('not 200');
    return createLocalJWKSet(JSON.parse(response.body));
  } catch {
    throw new MalformedResponseError(`${id} JWKS answer is not a JWK set (HTTP ${response.status})`, {
      error: 'server_error',
      status: 502,
      vendorStatus: response.status,
    });
  }
}

/**
 * Checks the ID token of an OpenID Connect code flow (OIDC Core §3.1.3.7): an asymmetric signature by a key of
 * the provider's JWKS, `iss` = the provider's issuer, `aud` contains the client_id (and `azp`, when present or
 * with several audiences, is the client_id), `exp`/`iat` within a minute's skew, and `nonce` = the one sent in
 * the authorization request. `required`: an ID token must be present (`openid` was requested). Throws a 400
 * `invalid_request` naming the failed check; returns the ID token's `sub`.
 */
export async function verifyIdToken(
  provider: ResolvedProvider,
  idToken: string | undefined,
  expected: { clientId: string; nonce: string | undefined; required: boolean },
  deps: EngineDeps,
): Promise<string | undefined> {
  if (idToken === undefined) {
    if (expected.required) throw refused('missing');
    return undefined;
  }
  const jwksUrl = provider.endpoints.jwks;
  if (!jwksUrl || !provider.issuer) {
    throw new ConfigError(`provider ${provider.template.id} declares no JWKS or issuer for ID tokens`);
  }
  let alg: unknown;
  try {
    alg = decodeProtectedHeader(idToken).alg;
  } catch {
    throw refused('malformed');
  }
  if (typeof alg !== 'string' || !ID_TOKEN_ALGORITHMS.includes(alg)) throw refused('algorithm');
  const keys = await fetchJwks(provider, jwksUrl, deps);
  let payload: Awaited<ReturnType<typeof jwtVerify>>['payload'];
  try {
    ({ payload } = await jwtVerify(idToken, keys, {
      issuer: provider.issuer,
      audience: expected.clientId,
      algorithms: ID_TOKEN_ALGORITHMS,
      requiredClaims: ['iss', 'sub', 'aud', 'exp', 'iat'],
      clockTolerance: ID_TOKEN_CLOCK_TOLERANCE_SECONDS,
      currentDate: new Date((deps.now ?? nowSeconds)() * 1000),
    }));
  } catch (e) {
    if (e instanceof jose.JWTExpired) throw refused('time');
    if (e instanceof jose.JWTClaimValidationFailed) throw refused(claimCheck(e.claim));
    if (e instanceof jose.JOSEAlgNotAllowed || e instanceof jose.JOSENotSupported) throw refused('algorithm');
    if (
      e instanceof jose.JWSSignatureVerificationFailed ||
      e instanceof jose.JWKSNoMatchingKey ||
      e instanceof jose.JWKSMultipleMatchingKeys
    ) {
      throw refused('signature');
    }
    throw refused('malformed');
  }
  const audiences = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
  if ((payload.azp !== undefined || audiences.length > 1) && payload.azp !== expected.clientId) {
    throw refused('authorized_party');
  }
  if (payload.nonce !== expected.nonce) throw refused('nonce');
  return payload.sub;
}

/** RFC 7617 user-pass in UTF-8 (btoa would throw on, or mis-encode, anything beyond Latin-1). */
function basicCredentials(username: string, password: string): string {
  return Buffer.from(`${username}:${password}`, 'utf8').toString('base64');
}

/** Static credentials (Basic user:password, an API key or personal access token) as a never-expiring {@link TokenSet}. */
export function staticTokenSet(
  provider: ResolvedProvider,
  secret: Readonly<Record<string, string | undefined>>,
  now: number,
): TokenSet {
  const spec = provider.template.grants.static;
  if (!spec) throw new ConfigError(`provider ${provider.template.id} has no static grant`);
  const lookup = lookupFrom(provider.vars, secret);
  try {
    if (spec.scheme === 'token') {
      return { accessToken: interpolate(spec.token, lookup), tokenType: spec.tokenType, issuedAt: now };
    }
    const username = interpolate(spec.username, lookup);
    const password = interpolate(spec.password, lookup);
    return { accessToken: basicCredentials(username, password), tokenType: 'Basic', issuedAt: now };
  } catch (e) {
    throw new ConfigError(`static credentials for ${provider.template.id}: ${(e as Error).message}`);
  }
}

/** How an API call carries the token: a header, or a query parameter. */
export type Authorization = { header: string; value: string } | { query: string; value: string };

/** Applies the template's token usage to a token set (`Authorization: Bearer ...`, a custom header, a query param). */
export function authorizationFor(
  provider: ResolvedProvider,
  tokens: Pick<TokenSet, 'accessToken' | 'tokenType'>,
): Authorization {
  const usage = provider.template.usage;
  const lookup = lookupFrom({
    ...provider.vars,
    access_token: tokens.accessToken,
    token_type: tokens.tokenType,
  });
  const fill = (template: string): string => {
    try {
      return interpolate(template, lookup);
    } catch (e) {
      if (e instanceof MissingValueError) {
        throw new ConfigError(`token usage of ${provider.template.id}: ${e.message}`);
      }
      throw e;
    }
  };
  switch (usage.in) {
    case 'header':
      return { header: usage.name, value: fill(usage.value) };
    case 'query':
      return { query: usage.name, value: fill(usage.value) };
    case 'basic':
      return {
        header: 'Authorization',
        value: `Basic ${basicCredentials(fill(usage.username), fill(usage.password))}`,
      };
  }
}

function withAuthorization(request: HttpRequest, authorization: Authorization): HttpRequest {
  if ('header' in authorization) {
    return {
      ...request,
      headers: { ...request.headers, [authorization.header.toLowerCase()]: authorization.value },
    };
  }
  const url = new URL(request.url);
  url.searchParams.set(authorization.query, authorization.value);
  return { ...request, url: url.toString() };
}

/** The request that asks the vendor who the token belongs to. */
export function buildUserinfoRequest(
  provider: ResolvedProvider,
  tokens: Pick<TokenSet, 'accessToken' | 'tokenType'>,
): HttpRequest {
  const url = provider.endpoints.userinfo;
  if (!url) throw new ConfigError(`provider ${provider.template.id} has no userinfo endpoint`);
  return withAuthorization(
    { method: 'GET', url, headers: { accept: 'application/json' } },
    authorizationFor(provider, tokens),
  );
}

/** The vendor-side subject of a token set: from the token response, else from the userinfo endpoint. */
export async function resolveSubject(
  provider: ResolvedProvider,
  tokens: TokenSet,
  deps: EngineDeps,
): Promise<string> {
  if (tokens.subject) return tokens.subject;
  const spec = provider.template.endpoints.userinfo;
  if (!spec)
    throw new ConfigError(`provider ${provider.template.id} names no subject field and no userinfo endpoint`);
  const response = await send(buildUserinfoRequest(provider, tokens), {
    fetch: deps.fetch,
    timeoutMs: deps.timeoutMs ?? DEFAULT_TIMEOUT_MS,
  });
  if (response.status === 401 || response.status === 403) {
    // A resource server rejecting the access token says nothing about our client credentials (RFC 6750 §3.1).
    throw new VendorRejectedError(
      `${provider.template.id} userinfo rejected the access token (HTTP ${response.status})`,
      {
        error: 'server_error',
        status: 502,
        vendorError: 'invalid_token',
        vendorStatus: response.status,
      },
    );
  }
  if (response.status < 200 || response.status >= 300) {
    throw tokenErrorFor(provider, response, (deps.now ?? nowSeconds)() * 1000);
  }
  let body: unknown;
  try {
    body = JSON.parse(response.body);
  } catch {
    body = undefined;
  }
  const subject =
    typeof body === 'object' && body !== null
      ? selectField(body as Record<string, unknown>, spec.subject)
      : undefined;
  if (typeof subject !== 'string' && typeof subject !== 'number') {
    throw new MalformedResponseError(`${provider.template.id} userinfo answer has no subject field`, {
      error: 'server_error',
      status: 502,
      vendorStatus: response.status,
    });
  }
  return String(subject);
}

/**
 * The revocation request (RFC 7009 form post with client auth, or a DELETE authenticated by the access
 * token itself as Genesys does), or undefined when the provider has no revocation endpoint. With
 * `private_key_jwt`, `client` must carry a client assertion (`signedRevokeClient`; {@link revokeTokens} does it).
 * https://www.rfc-editor.org/rfc/rfc7009#section-2.1
 */
export function buildRevokeRequest(
  provider: ResolvedProvider,
  tokens: TokenSet,
  client: ClientSecret,
): HttpRequest | undefined {
  const spec = provider.template.endpoints.revoke;
  const url = provider.endpoints.revoke;
  if (!spec || !url) return undefined;
  if (spec.auth === 'bearer') {
    return withAuthorization(
      { method: spec.method, url, headers: { accept: 'application/json' } },
      authorizationFor(provider, tokens),
    );
  }
  const token =
    spec.token === 'refresh_token' ? (tokens.refreshToken ?? tokens.accessToken) : tokens.accessToken;
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  const params: Record<string, string> = {
    token,
    token_type_hint: token === tokens.refreshToken ? 'refresh_token' : 'access_token',
  };
  // A client without the credential revocation asks for (a public client) sends only its client_id.
  const auth = hasCredentialFor(spec.clientAuth, client) ? spec.clientAuth : 'none';
  applyClientAuth(auth, client, { headers, params });
  return { method: spec.method, url, headers, body: new URLSearchParams(params).toString() };
}

/** Revokes at the vendor; returns false when the provider cannot revoke. 2xx (and RFC 7009's 200 for unknown tokens) is success. */
export async function revokeTokens(
  provider: ResolvedProvider,
  tokens: TokenSet,
  client: ClientSecret,
  deps: EngineDeps,
): Promise<boolean> {
  const signed = await signedRevokeClient(provider, client, (deps.now ?? nowSeconds)());
  const request = buildRevokeRequest(provider, tokens, signed);
  if (!request) return false;
  const response = await send(request, {
    fetch: deps.fetch,
    timeoutMs: deps.timeoutMs ?? DEFAULT_TIMEOUT_MS,
  });
  if (response.status >= 200 && response.status < 300) return true;
  const error = tokenErrorFor(provider, response, (deps.now ?? nowSeconds)() * 1000);
  // A token the vendor no longer knows is as revoked as it gets.
  if (error instanceof TokenvendError && error.error === 'invalid_grant') return true;
  throw error;
}
