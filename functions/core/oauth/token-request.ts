/**
 * Building token endpoint requests for every grant, from template data only. Pure: returns an
 * {@link HttpRequest}; sending and reading the answer live elsewhere.
 * https://www.rfc-editor.org/rfc/rfc6749#section-4.1.3, #section-6, #section-4.4, #section-4.3;
 * https://www.rfc-editor.org/rfc/rfc7522#section-2.1; https://www.rfc-editor.org/rfc/rfc7523#section-2.1, #section-2.2
 */
import { ConfigError } from '../errors.js';
import { interpolate, lookupFrom, MissingValueError, type ValueLookup } from '../provider/interpolate.js';
import type { ResolvedProvider } from '../provider/resolve.js';
import type { ClientAuth, GrantsSpec, TokenGrantName } from '../provider/schema.js';
import { applyClientAuth, type ClientSecret, isPublicClient, SIGNED_ASSERTIONS } from './client-auth.js';
import type { HttpRequest } from './http.js';

/** What a caller supplies for each grant. */
export type GrantInput =
  | { grant: 'authorization_code'; code: string; redirectUri: string; codeVerifier?: string | undefined }
  | { grant: 'refresh_token'; refreshToken: string; scopes?: readonly string[] | undefined }
  | { grant: 'client_credentials'; scopes?: readonly string[] | undefined }
  | {
      grant: 'saml2_bearer';
      /** The SAMLResponse exactly as the IdP posted it (base64). */
      samlResponse: string;
      /** The validated Assertion element as XML; needed for the `base64` and `base64url` formats. */
      assertionXml?: string | undefined;
      scopes?: readonly string[] | undefined;
    }
  | {
      grant: 'jwt_bearer';
      /**
       * The caller's assertion; used only when the template's `grants.jwt_bearer.assertion.source` is `caller`
       * (the default). `secret` and `signed` sources need none.
       */
      assertion?: string | undefined;
      scopes?: readonly string[] | undefined;
    }
  | { grant: 'password'; username: string; password: string; scopes?: readonly string[] | undefined };

type TokenGrantSpec = NonNullable<GrantsSpec[TokenGrantName]>;

function grantSpec(provider: ResolvedProvider, name: TokenGrantName): TokenGrantSpec {
  const spec = provider.template.grants[name];
  if (!spec) throw new ConfigError(`provider ${provider.template.id} does not support the ${name} grant`);
  return spec;
}

function base64url(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}

function samlAssertion(input: Extract<GrantInput, { grant: 'saml2_bearer' }>, format: string): string {
  if (format === 'response-base64') return input.samlResponse.replace(/\s+/g, '');
  if (!input.assertionXml)
    throw new ConfigError(`assertion format ${format} needs the validated assertion XML`);
  return format === 'base64'
    ? Buffer.from(input.assertionXml, 'utf8').toString('base64')
    : base64url(input.assertionXml);
}

function encodeBody(
  encoding: 'form' | 'json',
  params: Record<string, string>,
): { body: string; type: string } {
  return encoding === 'json'
    ? { body: JSON.stringify(params), type: 'application/json' }
    : { body: new URLSearchParams(params).toString(), type: 'application/x-www-form-urlencoded' };
}

/** Interpolates a grant template; a value the integration or its secret lacks is a configuration error. */
function fill(provider: ResolvedProvider, template: string, lookup: ValueLookup): string {
  try {
    return interpolate(template, lookup);
  } catch (e) {
    if (e instanceof MissingValueError) {
      throw new ConfigError(
        `provider ${provider.template.id} needs \${${e.placeholder}}, which this integration does not provide`,
      );
    }
    throw e;
  }
}

/** The token endpoint `grant` posts to: the grant's own `endpoint`, else `endpoints.token`. */
export function tokenEndpointFor(provider: ResolvedProvider, grant: TokenGrantName): string {
  const endpoint = provider.endpoints.grants[grant] ?? provider.endpoints.token;
  if (!endpoint) throw new ConfigError(`provider ${provider.template.id} has no token endpoint`);
  return endpoint;
}

/** The client authentication `grant` uses for `client`: a public client's `publicClientAuth`, else `clientAuth`. */
export function tokenClientAuth(
  provider: ResolvedProvider,
  grant: TokenGrantName,
  client: ClientSecret,
): ClientAuth {
  const spec = grantSpec(provider, grant);
  if ('publicClientAuth' in spec && isPublicClient(client)) return spec.publicClientAuth;
  return spec.clientAuth;
}

/**
 * The RFC 7523 §2.1 assertion of a JWT bearer request, from where the template says: the caller's, a field of
 * the client secret (a JWT credential the vendor's console issued), or the one signed for this request.
 */
function jwtBearerAssertion(
  provider: ResolvedProvider,
  spec: NonNullable<GrantsSpec['jwt_bearer']>,
  input: Extract<GrantInput, { grant: 'jwt_bearer' }>,
  client: ClientSecret,
): string {
  const id = provider.template.id;
  const source = spec.assertion;
  switch (source.source) {
    case 'caller':
      if (!input.assertion) {
        throw new ConfigError(`the jwt_bearer grant of ${id} needs the caller's assertion`);
      }
      return input.assertion;
    case 'secret': {
      // Own keys only: `constructor` must not find Object.prototype's members.
      const value = Object.hasOwn(client, source.field) ? client[source.field] : undefined;
      if (!value) {
        throw new ConfigError(
          `the jwt_bearer grant of ${id} reads secret.${source.field}, which this integration's secret does not have`,
        );
      }
      return value;
    }
    case 'signed': {
      const signed = client[SIGNED_ASSERTIONS]?.grantAssertion;
      if (!signed) {
        throw new ConfigError(`the jwt_bearer grant of ${id} needs an assertion signed for this request`);
      }
      return signed;
    }
  }
}

/**
 * Builds the token request for `input` against `provider` with `client`'s credentials. Synchronous: JWTs this
 * request needs (`private_key_jwt`, a signed JWT-bearer assertion) are signed beforehand and carried by
 * `client` (`signedClient` in `client-assertion.ts`; `requestToken` does both).
 */
export function buildTokenRequest(
  provider: ResolvedProvider,
  input: GrantInput,
  client: ClientSecret,
): HttpRequest {
  const spec = grantSpec(provider, input.grant);
  const endpoint = tokenEndpointFor(provider, input.grant);
  const delimiter = provider.template.authorize.scopeDelimiter;
  const headers: Record<string, string> = { accept: 'application/json' };
  const params: Record<string, string> = { grant_type: spec.grantType };
  const query: Record<string, string> = {};
  const auth = tokenClientAuth(provider, input.grant, client);

  switch (input.grant) {
    case 'authorization_code': {
      const ac = grantSpec(provider, 'authorization_code') as NonNullable<GrantsSpec['authorization_code']>;
      if (ac.code.in === 'header') {
        headers[ac.code.name.toLowerCase()] = fill(
          provider,
          ac.code.value,
          lookupFrom({ ...provider.vars, code: input.code, client_id: client.client_id }, client),
        );
      } else if (ac.code.in === 'query') {
        query[ac.code.name] = input.code;
      } else {
        params[ac.code.name] = input.code;
      }
      params.redirect_uri = input.redirectUri;
      if (input.codeVerifier) params.code_verifier = input.codeVerifier;
      break;
    }
    case 'refresh_token': {
      const rt = grantSpec(provider, 'refresh_token') as NonNullable<GrantsSpec['refresh_token']>;
      params[rt.refreshTokenParam] = input.refreshToken;
      if (input.scopes?.length) params.scope = input.scopes.join(delimiter);
      break;
    }
    case 'saml2_bearer': {
      const sb = grantSpec(provider, 'saml2_bearer') as NonNullable<GrantsSpec['saml2_bearer']>;
      params[sb.assertionParam] = samlAssertion(input, sb.assertionFormat);
      if (input.scopes?.length) params.scope = input.scopes.join(delimiter);
      break;
    }
    case 'jwt_bearer': {
      const jb = grantSpec(provider, 'jwt_bearer') as NonNullable<GrantsSpec['jwt_bearer']>;
      params[jb.assertionParam] = jwtBearerAssertion(provider, jb, input, client);
      if (input.scopes?.length) params.scope = input.scopes.join(delimiter);
      break;
    }
    case 'password':
      params.username = input.username;
      params.password = input.password;
      if (input.scopes?.length) params.scope = input.scopes.join(delimiter);
      break;
    case 'client_credentials':
      if (input.scopes?.length) params.scope = input.scopes.join(delimiter);
      break;
  }

  const lookup = lookupFrom({ ...provider.vars, client_id: client.client_id }, client);
  for (const [name, value] of Object.entries(spec.params)) params[name] = fill(provider, value, lookup);
  for (const [name, value] of Object.entries(spec.headers))
    headers[name.toLowerCase()] = fill(provider, value, lookup);
  applyClientAuth(auth, client, { headers, params }, { sendClientIdInBody: spec.sendClientIdInBody });

  const url = new URL(endpoint);
  const inQuery = spec.paramsIn === 'query' ? { ...params, ...query } : query;
  for (const [name, value] of Object.entries(inQuery)) url.searchParams.set(name, value);
  if (spec.paramsIn === 'query') return { method: spec.method, url: url.toString(), headers };
  const { body, type } = encodeBody(spec.bodyEncoding, params);
  headers['content-type'] = type;
  return { method: 'POST', url: url.toString(), headers, body };
}
