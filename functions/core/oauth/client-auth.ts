/**
 * Client authentication strategies, chosen by template data, never by provider name.
 * https://www.rfc-editor.org/rfc/rfc6749#section-2.3.1
 */
import { ConfigError } from '../errors.js';
import type { ClientAuth } from '../provider/schema.js';

/** A client's credentials from the secret store: `client_id`, usually `client_secret`, and any extras. */
export type ClientSecret = Readonly<Record<string, string | undefined>> & {
  readonly client_id: string;
  readonly client_secret?: string | undefined;
};

/** `application/x-www-form-urlencoded` encoding of one value, as RFC 6749 §2.3.1 asks for Basic. */
function formEncode(value: string): string {
  return new URLSearchParams([['', value]]).toString().slice(1);
}

/** A client without a secret is public (PKCE clients of Genesys, RingCentral). */
export function isPublicClient(client: ClientSecret): boolean {
  return !client.client_secret;
}

/**
 * Applies `auth` to a request being built: `basic` sets the Authorization header, `body` adds `client_id`
 * and `client_secret` to the parameters, `none` adds only `client_id`.
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
  }
}
