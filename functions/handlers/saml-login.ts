/**
 * `GET /saml/{integration}/login?return_to=...`: SP-initiated SAML sign-in. Sends the browser to the IdP with an
 * AuthnRequest (HTTP-Redirect binding) whose ID the ACS will accept once. A person's browser follows it, so
 * errors are HTML pages. Served by the saml-acs function (saml-acs.ts).
 */
import { ConfigError, InvalidRequestError } from '../core/errors.js';
import { type SamlFlowDeps, startSamlLogin } from '../core/flows/saml-login.js';
import { browserFlowDeps, errorPage, flowErrorPage } from './browser-page.js';
import type { App } from './runtime/app.js';
import { baseUrl, pathParam, queryParams, redirect } from './runtime/http.js';
import type { HttpFn } from './runtime/http-handler.js';

/** The flows' dependencies with the parked-connection store and the outstanding SAML requests. */
export function samlFlowDeps(app: App): SamlFlowDeps {
  if (!app.samlRequests) throw new ConfigError('this app has no SAML request store');
  return { ...browserFlowDeps(app), samlRequests: app.samlRequests, idpMetadata: app.idpMetadata };
}

/** A bad sign-in link (return_to off the allow-list, repeated, too long): our words, not the ACS's. */
const BAD_LINK = 'This sign-in link is not valid. Go back to the app and try again.';

export const samlLoginRoute: HttpFn = async (app, event) => {
  try {
    const returnTo = queryParams(event).getAll('return_to');
    if (returnTo.length > 1) throw new InvalidRequestError('return_to appears more than once');
    const result = await startSamlLogin(samlFlowDeps(app), {
      integration: pathParam(event, 'integration'),
      returnTo: returnTo[0],
      baseUrl: baseUrl(app, event),
    });
    return redirect(result.redirectUrl);
  } catch (error) {
    if (error instanceof InvalidRequestError && error.status === 400) {
      return errorPage(400, error.error, 'saml', BAD_LINK);
    }
    return flowErrorPage(app, error, 'saml');
  }
};
