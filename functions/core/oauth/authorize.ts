/**
 * The front-channel half of the authorization code flow: building the authorization URL and validating
 * the authorization response. PKCE, state and RFC 9207 `iss` checks come from oauth4webapi.
 * https://www.rfc-editor.org/rfc/rfc6749#section-4.1.1, https://www.rfc-editor.org/rfc/rfc7636,
 * https://www.rfc-editor.org/rfc/rfc9207
 */
import * as oauth from 'oauth4webapi';
import { AuthorizationResponseError, ConfigError, InvalidRequestError, vendorCode } from '../errors.js';
import { interpolate, lookupFrom, MissingValueError } from '../provider/interpolate.js';
import type { ResolvedProvider } from '../provider/resolve.js';
import { type ClientSecret, isPublicClient } from './client-auth.js';
import { metadataProblem } from './response-mapping.js';

export interface Pkce {
  verifier: string;
  challenge: string;
  method: 'S256';
}

/** A fresh S256 PKCE pair. */
export async function createPkce(): Promise<Pkce> {
  const verifier = oauth.generateRandomCodeVerifier();
  return { verifier, challenge: await oauth.calculatePKCECodeChallenge(verifier), method: 'S256' };
}

/** A fresh unguessable `state` value. */
export function createState(): string {
  return oauth.generateRandomState();
}

/** A fresh unguessable OpenID Connect `nonce`, kept with the state and checked in the ID token. */
export function createNonce(): string {
  return oauth.generateRandomNonce();
}

/** Whether this provider wants PKCE for this client. */
export function usesPkce(provider: ResolvedProvider, client: ClientSecret): boolean {
  const pkce = provider.template.grants.authorization_code?.pkce;
  return pkce !== undefined && (pkce.when === 'always' || isPublicClient(client));
}

export interface AuthorizationUrlInput {
  client: ClientSecret;
  redirectUri: string;
  state: string;
  /** Required when {@link usesPkce}; its verifier is kept server-side with the state. */
  pkce?: Pkce | undefined;
  /** Defaults to the template's `defaultScopes`. */
  scopes?: readonly string[] | undefined;
  /** OpenID Connect providers: the nonce the ID token must carry. */
  nonce?: string | undefined;
}

/** Builds the vendor authorization URL, including the template's directives (Genesys `org`, RingCentral `brandId`). */
export function buildAuthorizationUrl(provider: ResolvedProvider, input: AuthorizationUrlInput): URL {
  const { template, endpoints } = provider;
  if (!template.grants.authorization_code || !endpoints.authorize) {
    throw new ConfigError(`provider ${template.id} has no authorization_code grant`);
  }
  const url = new URL(endpoints.authorize);
  const p = url.searchParams;
  p.set('response_type', 'code');
  p.set('client_id', input.client.client_id);
  p.set('redirect_uri', input.redirectUri);
  p.set('state', input.state);
  const scopes = input.scopes ?? template.authorize.defaultScopes;
  if (scopes.length > 0) p.set('scope', scopes.join(template.authorize.scopeDelimiter));
  if (usesPkce(provider, input.client)) {
    if (!input.pkce) throw new ConfigError(`provider ${template.id} requires PKCE for this client`);
    p.set('code_challenge', input.pkce.challenge);
    p.set('code_challenge_method', input.pkce.method);
  }
  const lookup = lookupFrom({ ...provider.vars, client_id: input.client.client_id });
  for (const [name, value] of Object.entries(template.authorize.params)) {
    // A directive over an optional variable the integration did not set is left out, like an empty one.
    let resolved: string;
    try {
      resolved = interpolate(value, lookup);
    } catch (e) {
      if (e instanceof MissingValueError) continue;
      throw e;
    }
    if (resolved !== '') p.set(name, resolved);
  }
  // After the directives: a template cannot replace the nonce the ID token is checked against.
  if (input.nonce) p.set('nonce', input.nonce);
  return url;
}

/** Longest value we accept in an authorization response parameter (vendor codes are far shorter). */
const MAX_PARAM_LENGTH = 4096;

/**
 * Validates the redirect back from the vendor and returns the authorization code.
 * Checks, in order: no duplicated or oversized parameters, `iss` when the provider declares its issuer,
 * `state`, then a vendor `error=`.
 */
export function validateAuthorizationResponse(
  provider: ResolvedProvider,
  params: URLSearchParams,
  expectedState: string,
): { code: string; metadata?: Record<string, string> | undefined } {
  const codeParam = provider.template.grants.authorization_code?.responseCodeParam ?? 'code';
  for (const [name, value] of params) {
    // Names are attacker-chosen: only short ones are quoted back.
    const shown = name.length <= 64 ? name : `${name.slice(0, 64)}...`;
    if (name.length > MAX_PARAM_LENGTH || value.length > MAX_PARAM_LENGTH) {
      throw new InvalidRequestError(`parameter ${shown} is too long`);
    }
    if (params.getAll(name).length > 1)
      throw new InvalidRequestError(`parameter ${shown} appears more than once`);
  }
  const normalised = new URLSearchParams(params);
  if (codeParam !== 'code') {
    normalised.delete('code');
    const code = params.get(codeParam);
    if (code !== null) normalised.set('code', code);
  }
  // Without a declared issuer there is nothing to compare an `iss` with: ignore it (RFC 9207 §2.4).
  if (!provider.issuer) normalised.delete('iss');
  const as: oauth.AuthorizationServer = {
    issuer: provider.issuer ?? new URL(provider.endpoints.authorize ?? 'https://unknown.invalid').origin,
    authorization_response_iss_parameter_supported: provider.template.authorize.issParameterSupported,
  };
  try {
    oauth.validateAuthResponse(as, { client_id: 'tokenvend' }, normalised, expectedState);
  } catch (e) {
    if (e instanceof oauth.AuthorizationResponseError) {
      // From the browser's query string, so anyone can send it: a checked code only, never the description.
      const vendorError = vendorCode(params.get('error')) ?? 'unknown_error';
      throw new AuthorizationResponseError(
        `the vendor answered the authorization request with ${vendorError}`,
        { error: vendorError === 'access_denied' ? 'access_denied' : 'invalid_request', vendorError },
      );
    }
    // No `cause`: oauth4webapi's errors carry every response parameter, the code included.
    const message = e instanceof Error ? e.message : 'invalid authorization response';
    throw new AuthorizationResponseError(message.replace(/^response parameter /, ''));
  }
  const code = normalised.get('code');
  if (!code) throw new AuthorizationResponseError(`authorization response has no ${codeParam} parameter`);
  return { code, metadata: callbackMetadata(provider, params) };
}

/**
 * The values the template keeps from the redirect back (`authorize.callbackParams`: Zoho `accounts-server`).
 * They come from the browser, so each must match its declared pattern; the error names the parameter only.
 */
function callbackMetadata(
  provider: ResolvedProvider,
  params: URLSearchParams,
): Record<string, string> | undefined {
  const entries: [string, string][] = [];
  for (const [name, spec] of Object.entries(provider.template.authorize.callbackParams)) {
    const value = params.get(spec.param);
    if (value === null || value === '') {
      if (spec.required)
        throw new AuthorizationResponseError(`authorization response has no ${spec.param} parameter`);
      continue;
    }
    if (metadataProblem(value, spec.pattern)) {
      throw new AuthorizationResponseError(`parameter ${spec.param} is not a value this provider sends`);
    }
    entries.push([name, value]);
  }
  return entries.length ? Object.fromEntries(entries) : undefined;
}
