/**
 * OAuth 2.0 Token Exchange (RFC 8693) at `POST /oauth2/token`: a caller trades its own user JWT (the
 * `subject_token`) for the vendor access token of its connection to one integration (the `audience`, or the
 * `resource` `urn:tokenvend:integration:<id>`). The token comes from {@link vendFor}, so the lifecycle is exactly
 * that of `GET /vend/{integration}`: single-flight refresh, no vendor call before a stored not-before time.
 *
 * Errors follow https://www.rfc-editor.org/rfc/rfc8693#section-2.2.2 and
 * https://www.rfc-editor.org/rfc/rfc6749#section-5.2:
 * - a malformed request, and a `subject_token` that is invalid or unacceptable: `invalid_request` (RFC 8693
 *   §2.2.2 says the error "MUST" be `invalid_request` for an invalid subject token);
 * - no such target, or not exactly one: `invalid_target` (RFC 8693 §2.2.2);
 * - a grant type other than token exchange: `unsupported_grant_type` (RFC 6749 §5.2);
 * - the subject has no usable grant at the vendor (not connected, or needs re-authorisation): `invalid_grant`
 *   (RFC 6749 §5.2: the grant is "invalid, expired, revoked");
 * - client authentication, which this endpoint does not use (`token_endpoint_auth_methods_supported: ["none"]`,
 *   RFC 8414 §2): `invalid_client` (RFC 6749 §5.2).
 *
 * The subject comes only from the verified `subject_token`, through the same verifier (and so the same issuers
 * and the same `user:<namespace>:<claim>` mapping) as the user routes' `Authorization` header.
 */
import { InvalidRequestError, TokenvendError } from '../errors.js';
import { NeedsReauthError, NotConnectedError } from '../lifecycle/errors.js';
import { type FlowDeps, integrationOf } from './deps.js';
import { vendFor } from './vend.js';

/** https://www.rfc-editor.org/rfc/rfc8693#section-2.1 */
export const TOKEN_EXCHANGE_GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:token-exchange';
/** Token type identifiers, https://www.rfc-editor.org/rfc/rfc8693#section-3 */
export const JWT_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:jwt';
export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
/** The subject token types accepted: the caller's JWT, named either way. */
const SUBJECT_TOKEN_TYPES: readonly string[] = [JWT_TOKEN_TYPE, ACCESS_TOKEN_TYPE];
/** `resource` naming an integration: `urn:tokenvend:integration:<id>`. */
const INTEGRATION_RESOURCE_PREFIX = 'urn:tokenvend:integration:';

/** Longest `subject_token` (the same bound as a caller's `Authorization` header). */
export const MAX_SUBJECT_TOKEN_LENGTH = 16 * 1024;
/** Longest value of any other parameter. */
export const MAX_PARAMETER_LENGTH = 2048;
/** Most parameters in one request (the grant defines 10; clients add a few of their own, e.g. `client_id`). */
export const MAX_PARAMETERS = 32;

/** Parameters of RFC 8693 §2.1 this endpoint reads; any other parameter is ignored (RFC 6749 §3.2). */
const KNOWN = [
  'grant_type',
  'subject_token',
  'subject_token_type',
  'requested_token_type',
  'audience',
  'resource',
  'scope',
  'actor_token',
  'actor_token_type',
  'client_id',
  'client_secret',
  'client_assertion',
  'client_assertion_type',
] as const;

/** A valid token exchange request: whose token (still to be verified) and for which integration. */
export interface TokenExchangeRequest {
  subjectToken: string;
  /** The integration id named by `audience` or `resource`, not yet looked up. */
  integration: string;
}

/** https://www.rfc-editor.org/rfc/rfc8693#section-2.2.1 (with `scope` when the token's scope is known). */
export interface TokenExchangeResponse {
  access_token: string;
  issued_token_type: typeof ACCESS_TOKEN_TYPE;
  token_type: string;
  expires_in?: number | undefined;
  scope?: string | undefined;
}

/** `invalid_target` (RFC 8693 §2.2.2): no integration, more than one, or one that does not exist. */
function invalidTarget(message: string): InvalidRequestError {
  return new InvalidRequestError(message, { error: 'invalid_target' });
}

/**
 * Client authentication was attempted: this endpoint has no clients to authenticate (RFC 8414 §2
 * `token_endpoint_auth_methods_supported: ["none"]`), so it is an unsupported method, `invalid_client` (RFC 6749
 * §5.2). Sent in the `Authorization` header, the answer is a 401 with a challenge for the scheme the client used.
 */
class UnsupportedClientAuthError extends TokenvendError {
  readonly #scheme: string | undefined;

  constructor(scheme: string | undefined) {
    super('client authentication is not used here: send no client credentials (public client)', {
      error: 'invalid_client',
      status: scheme === undefined ? 400 : 401,
    });
    this.#scheme = scheme;
  }

  /** RFC 6749 §5.2: a challenge "matching the authentication scheme used by the client". */
  get wwwAuthenticate(): string {
    return `${this.#scheme ?? 'Basic'} realm="tokenvend"`;
  }
}

/**
 * Parses the token request body: exactly `application/x-www-form-urlencoded` (RFC 6749 §3.2; a `charset` parameter
 * is fine, anything else is a 415), every parameter at most once (RFC 6749 §3.2), empty values treated as absent
 * (RFC 6749 §3.2), values bounded. Unknown parameters are ignored (RFC 6749 §3.2).
 */
export function parseTokenExchangeRequest(
  contentType: string | undefined,
  body: string,
  authorizationHeader?: string | undefined,
): TokenExchangeRequest {
  if (!/^application\/x-www-form-urlencoded\s*(;|$)/i.test(contentType ?? '')) {
    throw new InvalidRequestError('the body must be application/x-www-form-urlencoded', { status: 415 });
  }
  const params = new URLSearchParams(body);
  const seen = new Set<string>();
  let count = 0;
  for (const [name] of params) {
    count++;
    if (count > MAX_PARAMETERS) throw new InvalidRequestError('too many parameters');
    if (seen.has(name)) {
      // RFC 8693 §2.1 lets audience and resource repeat (several targets); a token is for exactly one integration.
      if (name === 'audience' || name === 'resource') {
        throw invalidTarget(`name exactly one integration: ${name} appears more than once`);
      }
      throw new InvalidRequestError(
        `${(KNOWN as readonly string[]).includes(name) ? name : 'a parameter'} appears more than once`,
      );
    }
    seen.add(name);
  }
  const get = (name: (typeof KNOWN)[number], max = MAX_PARAMETER_LENGTH): string | undefined => {
    const value = params.get(name) ?? undefined;
    if (value === undefined || value === '') return undefined;
    if (value.length > max) throw new InvalidRequestError(`${name} is too long`);
    return value;
  };

  const grantType = get('grant_type');
  if (grantType === undefined) throw new InvalidRequestError('grant_type is required');
  if (grantType !== TOKEN_EXCHANGE_GRANT_TYPE) {
    throw new InvalidRequestError(`only the grant_type ${TOKEN_EXCHANGE_GRANT_TYPE} is supported`, {
      error: 'unsupported_grant_type',
    });
  }
  if (authorizationHeader !== undefined) {
    throw new UnsupportedClientAuthError(/^\s*([A-Za-z0-9!#$%&'*+.^_`|~-]+)/.exec(authorizationHeader)?.[1]);
  }
  if (get('client_secret') !== undefined || get('client_assertion') !== undefined) {
    throw new UnsupportedClientAuthError(undefined);
  }
  // `client_id` alone is a public client naming itself (RFC 6749 §2.3.1, §3.2.1): read and ignored.
  get('client_id');
  get('client_assertion_type');
  if (get('actor_token', MAX_SUBJECT_TOKEN_LENGTH) !== undefined || get('actor_token_type') !== undefined) {
    throw new InvalidRequestError('actor_token is not supported: no delegation, the subject acts for itself');
  }
  const subjectToken = get('subject_token', MAX_SUBJECT_TOKEN_LENGTH);
  if (subjectToken === undefined) throw new InvalidRequestError('subject_token is required');
  const subjectTokenType = get('subject_token_type');
  if (subjectTokenType === undefined) throw new InvalidRequestError('subject_token_type is required');
  if (!SUBJECT_TOKEN_TYPES.includes(subjectTokenType)) {
    throw new InvalidRequestError(`subject_token_type must be ${JWT_TOKEN_TYPE} or ${ACCESS_TOKEN_TYPE}`);
  }
  const requested = get('requested_token_type');
  if (requested !== undefined && requested !== ACCESS_TOKEN_TYPE) {
    throw new InvalidRequestError(`requested_token_type must be ${ACCESS_TOKEN_TYPE} when given`);
  }
  // `scope` is read and not used: the token carries the scopes of the user's connection, returned as `scope`
  // when known (RFC 6749 §3.3 lets the server ignore the requested scope).
  get('scope');

  const audience = get('audience');
  const resource = get('resource');
  if (audience !== undefined && resource !== undefined) {
    throw invalidTarget('name the integration once: audience or resource, not both');
  }
  if (audience === undefined && resource === undefined) {
    throw invalidTarget(`name the integration: audience=<id> or resource=${INTEGRATION_RESOURCE_PREFIX}<id>`);
  }
  let integration: string;
  if (audience !== undefined) {
    integration = audience;
  } else {
    if (!(resource as string).startsWith(INTEGRATION_RESOURCE_PREFIX)) {
      throw invalidTarget(`resource must be ${INTEGRATION_RESOURCE_PREFIX}<integration id>`);
    }
    integration = (resource as string).slice(INTEGRATION_RESOURCE_PREFIX.length);
  }
  return { subjectToken, integration };
}

/** Verifies a caller's JWT and names its stored subject (the user routes' caller verifier). */
export type SubjectVerifier = (token: string) => Promise<{ subject: string }>;

/**
 * Verifies the subject token, then vends that subject's token for the named integration. The target is looked up
 * only after the subject token is verified, so an unauthenticated request learns nothing about which integrations
 * exist.
 */
export async function exchangeToken(
  deps: FlowDeps,
  request: TokenExchangeRequest,
  verify: SubjectVerifier,
): Promise<TokenExchangeResponse> {
  let subject: string;
  try {
    ({ subject } = await verify(request.subjectToken));
  } catch (error) {
    // The verifier's 401 invalid_token is, for a token passed as a parameter, RFC 8693 §2.2.2's invalid_request.
    // Its reason is one of the verifier's fixed words, never the token or its claims.
    if (error instanceof TokenvendError && error.error === 'invalid_token') {
      const reason = (error as { reason?: unknown }).reason;
      throw new InvalidRequestError(
        `the subject_token is not acceptable${typeof reason === 'string' ? ` (${reason})` : ''}`,
        { cause: error },
      );
    }
    throw error; // 503 when the issuer's keys cannot be fetched, with Retry-After
  }
  if (!deps.deployment.integrations.has(request.integration)) {
    throw invalidTarget('no such integration');
  }
  const integration = await integrationOf(deps, request.integration);
  try {
    const vended = await vendFor(deps, integration, subject);
    return {
      access_token: vended.access_token,
      issued_token_type: ACCESS_TOKEN_TYPE,
      token_type: vended.token_type,
      expires_in: vended.expires_in,
      scope: vended.scope,
    };
  } catch (error) {
    if (error instanceof NotConnectedError || error instanceof NeedsReauthError) {
      throw new InvalidRequestError(error.message, { error: 'invalid_grant', cause: error });
    }
    throw error;
  }
}

/** Where the token endpoint is, relative to the API's base URL. */
const TOKEN_ENDPOINT_PATH = '/oauth2/token';

/** https://www.rfc-editor.org/rfc/rfc8414#section-2 (the members tokenvend has something to say about). */
export interface OAuthServerMetadata {
  issuer: string;
  token_endpoint: string;
  grant_types_supported: string[];
  token_endpoint_auth_methods_supported: string[];
  response_types_supported: string[];
}

/**
 * The authorization server metadata for the API at `baseUrl`. `issuer` is the base URL without a trailing slash,
 * the value the metadata URL is built from (RFC 8414 §3, §3.3). There is no authorization endpoint, so no response
 * type is supported (`response_types_supported` is required by RFC 8414 §2, hence the empty list); clients do not
 * authenticate (`none`).
 */
export function oauthServerMetadata(baseUrl: string): OAuthServerMetadata {
  const issuer = baseUrl.replace(/\/+$/, '');
  return {
    issuer,
    token_endpoint: `${issuer}${TOKEN_ENDPOINT_PATH}`,
    grant_types_supported: [TOKEN_EXCHANGE_GRANT_TYPE],
    token_endpoint_auth_methods_supported: ['none'],
    response_types_supported: [],
  };
}
