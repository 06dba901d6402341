/**
 * SP-initiated SAML sign-in (DESIGN flow 2), `GET /saml/{integration}/login?return_to=...`: node-saml builds the
 * AuthnRequest (HTTP-Redirect binding, signed with the SP key from the integration's secret when it holds one),
 * its ID is stored single use for {@link SAML_REQUEST_TTL_SECONDS}, and the browser goes to the IdP. The ACS
 * accepts the answer once, at this integration only (validate.ts). `return_to` (allow-listed) means a frontend
 * started it: the ACS then parks the tokens and hands that page a claim code, as the OAuth callback does.
 *
 * No RelayState is sent: the return URL stays on our side with the request (a RelayState MUST NOT exceed 80
 * bytes, SAML bindings 3.4.3, and it would come back unsigned). https://docs.oasis-open.org/security/saml/v2.0/
 */
import { randomBytes } from 'node:crypto';
import { SAML, ValidateInResponseTo } from '@node-saml/node-saml';
import { InvalidRequestError } from '../errors.js';
import { type CheckedSamlConfig, checkSamlConfig, resolveSamlConfig } from '../saml/config.js';
import type { IdpMetadataSource } from '../saml/idp-metadata.js';
import type { SamlRequestStore } from '../saml/requests.js';
import { SAML_REQUEST_TTL_SECONDS } from '../saml/requests.js';
import { type SpKeyPair, spKeysOf } from '../saml/sp-keys.js';
import type { BrowserFlowDeps } from './claim.js';
import { acsUrl } from './deps.js';
import { checkReturnUrl } from './return-url.js';
import { samlIntegrationOf } from './saml-metadata.js';

/** The SAML flows: the browser flows' dependencies plus the outstanding SP-initiated requests. */
export interface SamlFlowDeps extends BrowserFlowDeps {
  samlRequests: SamlRequestStore;
  /** IdP metadata of integrations with `saml.idpMetadataUrl` (the per-container cache). */
  idpMetadata?: IdpMetadataSource | undefined;
}

export interface SamlLoginInput {
  integration: string;
  returnTo?: string | undefined;
  baseUrl: string;
}

export interface SamlLoginResult {
  /** The IdP's SSO URL with `SAMLRequest` (and `SigAlg`, `Signature` when signed). */
  redirectUrl: string;
  requestId: string;
  expiresAt: number;
}

/** `_` + 40 hex digits: an xs:ID (NCName), 160 random bits, as node-saml makes them. */
export function createRequestId(): string {
  return `_${randomBytes(20).toString('hex')}`;
}

/** The HTTP-Redirect URL carrying the AuthnRequest `requestId`, built by node-saml. */
export async function authnRequestUrl(
  config: CheckedSamlConfig,
  ssoUrl: string,
  requestId: string,
  signing: SpKeyPair | undefined,
): Promise<string> {
  const saml = new SAML({
    entryPoint: ssoUrl,
    issuer: config.spEntityId,
    callbackUrl: config.acsUrl,
    idpCert: [...config.idpCerts],
    identifierFormat: config.nameIdFormats[0] ?? null,
    // A requested AuthnContext (node-saml asks for PasswordProtectedTransport, exact) makes IdPs refuse users
    // who signed in otherwise (MFA, Kerberos); the IdP's own policy decides how users authenticate.
    disableRequestedAuthnContext: true,
    generateUniqueId: () => requestId,
    // Our store keeps the request (node-saml's cache is per process and would never be asked).
    validateInResponseTo: ValidateInResponseTo.never,
    ...(signing ? { privateKey: signing.privateKey, signatureAlgorithm: 'sha256' as const } : {}),
  });
  return saml.getAuthorizeUrlAsync('', undefined, {});
}

export async function startSamlLogin(deps: SamlFlowDeps, input: SamlLoginInput): Promise<SamlLoginResult> {
  const { integration, saml } = await samlIntegrationOf(deps, input.integration);
  const config = await resolveSamlConfig(
    checkSamlConfig({ ...saml, acsUrl: acsUrl(input.baseUrl, integration.id) }, integration.id),
    deps.idpMetadata,
    integration.id,
  );
  const ssoUrl = config.idpSsoUrl;
  if (!ssoUrl) {
    throw new InvalidRequestError(`integration ${integration.id} has no IdP sign-in URL to start from`, {
      status: 404,
      error: 'unknown_integration',
    });
  }
  const returnTo = checkReturnUrl(input.returnTo, deps.deployment.config.returnUrls);
  const { signing } = spKeysOf(await deps.secrets.getClientSecret(integration.id), integration.id);
  const requestId = createRequestId();
  const redirectUrl = await authnRequestUrl(config, ssoUrl, requestId, signing);
  const now = deps.now();
  const expiresAt = now + SAML_REQUEST_TTL_SECONDS;
  await deps.samlRequests.put(
    requestId,
    { integration: integration.id, returnTo, createdAt: now },
    expiresAt,
  );
  return { redirectUrl, requestId, expiresAt };
}
