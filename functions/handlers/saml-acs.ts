/**
 * The saml-acs function: every SAML route of an integration.
 *
 * - `POST /saml/{integration}/acs`: the IdP's SAMLResponse, exchanged for a vendor token (saml2-bearer). A browser
 *   posts it (HTTP-POST binding), so every answer is a page or a redirect, errors included: an HTML page with the
 *   error's status, our own words and the failed SAML check, never JSON.
 * - `GET /saml/{integration}/login`: SP-initiated sign-in, a redirect to the IdP (saml-login.ts); errors as pages.
 * - `GET /saml/{integration}/metadata`: the SP metadata (saml-metadata.ts); errors as JSON.
 */
import type { Context } from 'aws-lambda';
import { completeSamlSignIn } from '../core/flows/saml-acs.js';
import { browserRoute, flowErrorPage } from './browser-page.js';
import type { HttpEvent } from './middleware/types.js';
import type { AppProvider } from './runtime/app.js';
import { awsApp } from './runtime/aws-app.js';
import { baseUrl, formBody, pathParam, redirect, resultPage, withOutcome } from './runtime/http.js';
import { httpHandler } from './runtime/http-handler.js';
import { samlFlowDeps, samlLoginRoute } from './saml-login.js';
import { samlMetadataRoute } from './saml-metadata.js';

function createAcsRoute(getApp: AppProvider) {
  return browserRoute(
    'saml',
    httpHandler(getApp, async (app, event) => {
      try {
        const form = formBody(event, ['SAMLResponse', 'RelayState']);
        const result = await completeSamlSignIn(samlFlowDeps(app), {
          integration: pathParam(event, 'integration'),
          samlResponse: form.SAMLResponse,
          relayState: form.RelayState,
          baseUrl: baseUrl(app, event),
        });
        app.audit?.note({ subject: result.subject, actor: result.subject });
        if (result.claim && result.returnTo) {
          return redirect(
            withOutcome(result.returnTo, { claim: result.claim, integration: result.integration }),
          );
        }
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

/** `GET .../metadata` and `GET .../login` by name; anything else of this function is the ACS. */
function routeOf(event: HttpEvent): 'metadata' | 'login' | 'acs' {
  const method = event.requestContext?.http?.method ?? event.routeKey?.split(' ')[0];
  const path = event.routeKey?.split(' ')[1] ?? event.rawPath ?? '';
  if (method === 'GET' && path.endsWith('/metadata')) return 'metadata';
  if (method === 'GET' && path.endsWith('/login')) return 'login';
  return 'acs';
}

export function createSamlAcsHandler(getApp: AppProvider) {
  const routes = {
    acs: createAcsRoute(getApp),
    login: browserRoute('saml', httpHandler(getApp, samlLoginRoute)),
    metadata: httpHandler(getApp, samlMetadataRoute),
  };
  return (event: HttpEvent, context: Context) => routes[routeOf(event)](event, context);
}

export const handler = createSamlAcsHandler(awsApp);
