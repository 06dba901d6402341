/**
 * `POST /saml/{integration}/acs`: the IdP's SAMLResponse, exchanged for a vendor token (saml2-bearer). A browser
 * posts it (HTTP-POST binding), so every answer is a page or a redirect, errors included: an HTML page with the
 * error's status, our own words and the failed SAML check, never JSON.
 */
import { completeSamlSignIn } from '../core/flows/saml-acs.js';
import { browserRoute, flowErrorPage } from './browser-page.js';
import type { AppProvider } from './runtime/app.js';
import { awsApp } from './runtime/aws-app.js';
import { baseUrl, formBody, pathParam, redirect, resultPage, withOutcome } from './runtime/http.js';
import { httpHandler } from './runtime/http-handler.js';

export function createSamlAcsHandler(getApp: AppProvider) {
  return browserRoute(
    'saml',
    httpHandler(getApp, async (app, event) => {
      try {
        const form = formBody(event, ['SAMLResponse', 'RelayState']);
        const result = await completeSamlSignIn(app.flows, {
          integration: pathParam(event, 'integration'),
          samlResponse: form.SAMLResponse,
          relayState: form.RelayState,
          baseUrl: baseUrl(app, event),
        });
        if (result.returnTo) {
          return redirect(
            withOutcome(result.returnTo, { tokenvend: 'connected', integration: result.integration }),
          );
        }
        return resultPage(
          200,
          'Signed in',
          `Your ${result.integration} session is ready. You can close this window.`,
        );
      } catch (error) {
        return flowErrorPage(app, error, 'saml');
      }
    }),
  );
}

export const handler = createSamlAcsHandler(awsApp);
