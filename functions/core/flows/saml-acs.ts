/**
 * SAML ACS -> saml2-bearer (DESIGN flow 2): the posted response is validated (pinned certificate, audience,
 * destination, recipient, time window, InResponseTo, replay), the subject comes from the signed assertion, and
 * the provider's saml2_bearer grant obtains the vendor token. https://www.rfc-editor.org/rfc/rfc7522
 *
 * Where the tokens go:
 * - IdP-initiated (no InResponseTo; only where `allowIdpInitiated` is not false), or SP-initiated without a
 *   `return_to`: stored as the subject's connection; the browser goes to an allow-listed RelayState
 *   (IdP-initiated only) or sees a result page.
 * - SP-initiated from a frontend (`return_to` kept with the request): PARKED under a one-time claim code, and the
 *   browser goes back to the frontend with it, as after the OAuth callback (callback.ts, claim.ts): only a
 *   caller whose subject is the asserted one can claim the connection; anyone else discards it.
 */
import { InvalidRequestError } from '../errors.js';
import { requestToken } from '../oauth/engine.js';
import { spKeysOf } from '../saml/sp-keys.js';
import { validateSamlResponse } from '../saml/validate.js';
import { samlSubjectNamespace, userSubject } from '../subject.js';
import type { TokenSet } from '../token-set.js';
import { createClaimCode, PARKED_TTL_SECONDS } from './callback.js';
import { discardTokens } from './claim.js';
import { withClientSecret } from './client-secret.js';
import { acsUrl } from './deps.js';
import { isAllowedReturnUrl } from './return-url.js';
import type { SamlFlowDeps } from './saml-login.js';
import { samlIntegrationOf } from './saml-metadata.js';

/** Revocation of tokens we will not keep is attempted once: the user is waiting for a page. */
const NO_RETRY = { retries: 0, minTimeout: 0, maxTimeout: 0, randomize: false } as const;

export interface AcsInput {
  integration: string;
  samlResponse: string | undefined;
  relayState: string | undefined;
  baseUrl: string;
}

export interface AcsResult {
  integration: string;
  /** The asserted subject `user:<subjectNamespace>:<NameID>`. */
  subject: string;
  /**
   * Where the browser goes: the frontend's return URL (with `claim`), or an allow-listed RelayState of an
   * IdP-initiated response; otherwise the handler shows a result page.
   */
  returnTo?: string | undefined;
  /** Set when the tokens were parked (a frontend started the sign-in): the one-time claim code. */
  claim?: string | undefined;
}

export async function completeSamlSignIn(deps: SamlFlowDeps, input: AcsInput): Promise<AcsResult> {
  const { integration, saml } = await samlIntegrationOf(deps, input.integration);
  if (!input.samlResponse) throw new InvalidRequestError('missing SAMLResponse');
  // The SP encryption key, when the integration has one, decrypts an EncryptedAssertion before the checks.
  const { encryption } = spKeysOf(await deps.secrets.getClientSecret(integration.id), integration.id);
  const assertion = await validateSamlResponse(
    input.samlResponse,
    { ...saml, acsUrl: acsUrl(input.baseUrl, integration.id) },
    {
      now: new Date(deps.now() * 1000),
      replay: deps.replay,
      integration: integration.id,
      requests: deps.samlRequests,
      idpMetadata: deps.idpMetadata,
      decryptionKey: encryption?.privateKey,
    },
  );
  // The user's stored subject, built like a caller's (core/subject.ts) so that a caller of the integration's
  // subject namespace vends it; an unusable NameID is refused here, before any vendor call.
  const subject = userSubject(samlSubjectNamespace(saml, deps.deployment.config.callers), assertion.subject);
  const frontend = assertion.request?.returnTo;
  // The allow-list may have changed since the login: checked again before the vendor is called.
  if (frontend !== undefined && !isAllowedReturnUrl(frontend, deps.deployment.config.returnUrls)) {
    throw new InvalidRequestError('return_to is no longer on the allow-list of return URLs');
  }
  const tokens: TokenSet = await withClientSecret(deps.secrets, integration.id, (client) =>
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
  if (frontend !== undefined) {
    const claim = createClaimCode();
    const now = deps.now();
    try {
      await deps.parked.park(
        claim,
        { integration: integration.id, subject, grant: 'saml2_bearer', tokens, createdAt: now },
        now + PARKED_TTL_SECONDS,
      );
    } catch (error) {
      await discardTokens(deps, integration, tokens, NO_RETRY);
      throw error;
    }
    return { integration: integration.id, subject, returnTo: frontend, claim };
  }
  await deps.lifecycle.storeNewConnection(integration, { subject, grant: 'saml2_bearer', tokens });
  // RelayState comes back unsigned: it only ever leads to an allow-listed URL, and only when unsolicited (an
  // SP-initiated sign-in sends none).
  const relay = assertion.request ? undefined : input.relayState;
  const returnTo = relay && isAllowedReturnUrl(relay, deps.deployment.config.returnUrls) ? relay : undefined;
  return { integration: integration.id, subject, returnTo };
}
