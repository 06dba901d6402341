/**
 * SAML ACS -> saml2-bearer (DESIGN flow 2): the posted response is validated (pinned certificate, audience,
 * destination, recipient, time window, replay), the subject comes from the signed assertion, and the
 * provider's saml2_bearer grant obtains the vendor token. https://www.rfc-editor.org/rfc/rfc7522
 */
import { InvalidRequestError } from '../errors.js';
import { requestToken } from '../oauth/engine.js';
import { validateSamlResponse } from '../saml/validate.js';
import { samlSubjectNamespace, userSubject } from '../subject.js';
import { withClientSecret } from './client-secret.js';
import { acsUrl, type FlowDeps } from './deps.js';
import { isAllowedReturnUrl } from './return-url.js';
import { samlIntegrationOf } from './saml-metadata.js';

export interface AcsInput {
  integration: string;
  samlResponse: string | undefined;
  relayState: string | undefined;
  baseUrl: string;
}

export interface AcsResult {
  integration: string;
  /** The stored subject `user:<subjectNamespace>:<NameID>`. */
  subject: string;
  /** The RelayState when it is an allow-listed URL; otherwise the handler shows a result page. */
  returnTo?: string | undefined;
}

export async function completeSamlSignIn(deps: FlowDeps, input: AcsInput): Promise<AcsResult> {
  const { integration, saml } = await samlIntegrationOf(deps, input.integration);
  if (!input.samlResponse) throw new InvalidRequestError('missing SAMLResponse');
  const assertion = await validateSamlResponse(
    input.samlResponse,
    { ...saml, acsUrl: acsUrl(input.baseUrl, integration.id) },
    { now: new Date(deps.now() * 1000), replay: deps.replay, integration: integration.id },
  );
  // The user's stored subject, built like a caller's (core/subject.ts) so that a caller of the integration's
  // subject namespace vends it; an unusable NameID is refused here, before any vendor call.
  const subject = userSubject(samlSubjectNamespace(saml, deps.deployment.config.callers), assertion.subject);
  const tokens = await withClientSecret(deps.secrets, integration.id, (client) =>
    requestToken(
      integration.provider,
      {
        grant: 'saml2_bearer',
        samlResponse: assertion.samlResponse,
        assertionXml: assertion.assertionXml,
        scopes: integration.config.scopes,
      },
      client,
      { fetch: deps.fetch, timeoutMs: deps.vendorTimeoutMs, now: deps.now },
    ),
  );
  await deps.lifecycle.storeNewConnection(integration, { subject, grant: 'saml2_bearer', tokens });
  const relay = input.relayState;
  const returnTo = relay && isAllowedReturnUrl(relay, deps.deployment.config.returnUrls) ? relay : undefined;
  return { integration: integration.id, subject, returnTo };
}
