/**
 * The grant engine: one entry point per vendor interaction, each `build -> send -> process`.
 * Vendor HTTP goes through the injected fetch with a timeout; nothing here reads the environment or logs.
 */
import { ConfigError, MalformedResponseError, TokenvendError, VendorRejectedError } from '../errors.js';
import { interpolate, lookupFrom, MissingValueError } from '../provider/interpolate.js';
import type { ResolvedProvider } from '../provider/resolve.js';
import type { TokenSet } from '../token-set.js';
import { applyClientAuth, type ClientSecret } from './client-auth.js';
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

/** Runs one grant at the vendor's token endpoint and returns the mapped {@link TokenSet}. */
export async function requestToken(
  provider: ResolvedProvider,
  input: GrantInput,
  client: ClientSecret,
  deps: EngineDeps,
): Promise<TokenSet> {
  const request = buildTokenRequest(provider, input, client);
  const response = await send(request, {
    fetch: deps.fetch,
    timeoutMs: deps.timeoutMs ?? DEFAULT_TIMEOUT_MS,
  });
  return processTokenResponse(provider, response, (deps.now ?? nowSeconds)());
}

/** RFC 7617 user-pass in UTF-8 (btoa would throw on, or mis-encode, anything beyond Latin-1). */
function basicCredentials(username: string, password: string): string {
  return Buffer.from(`${username}:${password}`, 'utf8').toString('base64');
}

/** Static credentials (Basic user:password, personal access tokens) as a never-expiring {@link TokenSet}. */
export function staticTokenSet(
  provider: ResolvedProvider,
  secret: Readonly<Record<string, string | undefined>>,
  now: number,
): TokenSet {
  const spec = provider.template.grants.static;
  if (!spec) throw new ConfigError(`provider ${provider.template.id} has no static grant`);
  const lookup = lookupFrom(provider.vars, secret);
  try {
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
 * token itself as Genesys does), or undefined when the provider has no revocation endpoint.
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
  applyClientAuth(client.client_secret ? spec.clientAuth : 'none', client, { headers, params });
  return { method: spec.method, url, headers, body: new URLSearchParams(params).toString() };
}

/** Revokes at the vendor; returns false when the provider cannot revoke. 2xx (and RFC 7009's 200 for unknown tokens) is success. */
export async function revokeTokens(
  provider: ResolvedProvider,
  tokens: TokenSet,
  client: ClientSecret,
  deps: EngineDeps,
): Promise<boolean> {
  const request = buildRevokeRequest(provider, tokens, client);
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
