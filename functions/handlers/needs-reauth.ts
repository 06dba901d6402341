/**
 * The 409 `needs_reauth` answer of the routes that hand out or use a user's token (`/vend`, `/proxy`): the reason,
 * and the route where this user connects again, chosen by the grant that made the connection (a browser login,
 * the user's own credentials, or a SAML sign-in).
 */
import { NeedsReauthError } from '../core/lifecycle/errors.js';
import { type HttpResult, json } from './middleware/types.js';

/** Where a user whose connection came from `grant` connects again. */
export function reconnectRoute(
  grant: string | undefined,
  integration: string,
): { method: string; path: string } {
  const at = encodeURIComponent(integration);
  if (grant === 'user_credentials') return { method: 'POST', path: `/connect/${at}/credentials` };
  if (grant === 'saml2_bearer') return { method: 'GET', path: `/saml/${at}/login` };
  return { method: 'POST', path: `/connect/${at}` };
}

/** 409 with the reason and the reconnect route; any other error is rethrown for the error middleware. */
export function needsReauthAnswer(error: unknown, integration: string): HttpResult {
  if (!(error instanceof NeedsReauthError)) throw error;
  return json(409, {
    error: error.error,
    error_description: error.message,
    reason: error.reason,
    connect: reconnectRoute(error.grant, integration),
  });
}
