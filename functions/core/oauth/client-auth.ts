/**
 * Client authentication strategies, chosen by template data, never by provider name.
 * https://www.rfc-editor.org/rfc/rfc6749#section-2.3.1, https://www.rfc-editor.org/rfc/rfc7523#section-2.2
 */
import { ConfigError } from '../errors.js';
import type { ClientAuth } from '../provider/schema.js';

/**
 * Where a client object carries the JWTs signed for one request (see `client-assertion.ts`). A symbol, so no
 * field of the secret document can pose as a signed assertion, and `JSON.stringify` never shows one.
 */
export const SIGNED_ASSERTIONS: unique symbol = Symbol('tokenvend.signedAssertions');

/** JWTs signed for exactly one request: never cached, never stored. */
export interface SignedAssertions {
  /** RFC 7523 §2.2 client assertion (`private_key_jwt`). */
  readonly clientAssertion?: string | undefined;
  /** RFC 7523 §2.1 authorization grant assertion (`grants.jwt_bearer.assertion.source: signed`). */
  readonly grantAssertion?: string | undefined;
}

/**
 * A client's credentials from the secret store: `client_id`, usually `client_secret` (or, for `private_key_jwt`,
 * `private_key` and optional `key_id`), and any extras.
 */
export type ClientSecret = Readonly<Record<string, string | undefined>> & {
  readonly client_id: string;
  readonly client_secret?: string | undefined;
  /** PKCS#8 PEM private key for `private_key_jwt` and signed JWT-bearer assertions. */
  readonly private_key?: string | undefined;
  /** Sent as the JWT header `kid`. */
  readonly key_id?: string | undefined;
  readonly [SIGNED_ASSERTIONS]?: SignedAssertions | undefined;
};

/** RFC 7523 §2.2: the `client_assertion_type` of a JWT client assertion. */
export const JWT_CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** `application/x-www-form-urlencoded` encoding of one value, as RFC 6749 §2.3.1 asks for Basic. */
function formEncode(value: string): string {
  return new URLSearchParams([['', value]]).toString().slice(1);
}

/**
 * A client with neither a `client_secret` nor a `private_key` is public (PKCE clients of Genesys, RingCentral).
 * A client that authenticates with a private key JWT (RFC 7523 §2.2) is confidential.
 */
export function isPublicClient(client: ClientSecret): boolean {
  return !client.client_secret && !client.private_key;
}

/** Whether `client` holds the credential `auth` needs: a `client_secret` for basic and body, a `private_key` for private_key_jwt. */
export function hasCredentialFor(auth: ClientAuth, client: ClientSecret): boolean {
  if (auth === 'basic' || auth === 'body') return !!client.client_secret;
  if (auth === 'private_key_jwt') return !!client.private_key;
  return true;
}

/**
 * Applies `auth` to a request being built: `basic` sets the Authorization header, `body` adds `client_id`
 * and `client_secret` to the parameters, `none` adds only `client_id`, `private_key_jwt` adds `client_id`,
 * `client_assertion_type` and the `client_assertion` signed beforehand for this request (RFC 7523 §2.2,
 * RFC 7521 §4.2; `signedClient` in `client-assertion.ts`).
 */
export function applyClientAuth(
  auth: ClientAuth,
  client: ClientSecret,
  request: { headers: Record<string, string>; params: Record<string, string> },
  options: { sendClientIdInBody?: boolean | undefined } = {},
): void {
  const secret = client.client_secret;
  if ((auth === 'basic' || auth === 'body') && !secret) {
    throw new ConfigError(
      `client authentication "${auth}" needs a client_secret for client ${client.client_id}`,
    );
  }
  switch (auth) {
    case 'basic':
      request.headers.authorization = `Basic ${btoa(`${formEncode(client.client_id)}:${formEncode(secret as string)}`)}`;
      if (options.sendClientIdInBody) request.params.client_id = client.client_id;
      return;
    case 'body':
      request.params.client_id = client.client_id;
      request.params.client_secret = secret as string;
      return;
    case 'none':
      request.params.client_id = client.client_id;
      return;
    case 'private_key_jwt': {
      const assertion = client[SIGNED_ASSERTIONS]?.clientAssertion;
      if (!assertion) {
        throw new ConfigError(
          `client authentication "private_key_jwt" needs a client assertion signed for this request (client ${client.client_id})`,
        );
      }
      request.params.client_id = client.client_id;
      request.params.client_assertion_type = JWT_CLIENT_ASSERTION_TYPE;
      request.params.client_assertion = assertion;
      return;
    }
  }
}
