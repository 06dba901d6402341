/** `POST /saml/{integration}/acs`: the IdP's SAMLResponse, exchanged for a vendor token (saml2-bearer). */
import { completeSamlSignIn } from '../core/flows/saml-acs.js';
import type { AppProvider } from './runtime/app.js';
import { awsApp } from './runtime/aws-app.js';
import { baseUrl, formBody, pathParam, redirect, resultPage, withOutcome } from './runtime/http.js';
import { httpHandler } from './runtime/http-handler.js';

export function createSamlAcsHandler(getApp: AppProvider) {
  return httpHandler(getApp, async (app, event) => {
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
  });
}

export const handler = createSamlAcsHandler(awsApp);
