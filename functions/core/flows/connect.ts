/**
 * Starting the authorization code flow (DESIGN flow 1): a single-use state record holding the subject,
 * the PKCE verifier, the redirect URI and the allow-listed return URL; the answer is the vendor's authorize URL.
 * https://www.rfc-editor.org/rfc/rfc6749#section-4.1.1, https://www.rfc-editor.org/rfc/rfc9700#section-2.1
 */
import { InvalidRequestError } from '../errors.js';
import { buildAuthorizationUrl, createPkce, createState, usesPkce } from '../oauth/authorize.js';
import { callbackUrl, type FlowDeps, integrationOf } from './deps.js';
import { checkReturnUrl } from './return-url.js';

/** Ten minutes: long enough for a vendor login with MFA, short enough that a leaked state is useless. */
export const CONNECT_STATE_TTL_SECONDS = 600;

export interface ConnectInput {
  integration: string;
  subject: string;
  returnTo?: string | undefined;
  /** Base URL of this API as the vendor sees it. */
  baseUrl: string;
}

export interface ConnectResult {
  authorizeUrl: string;
  expiresAt: number;
}

export async function startConnect(deps: FlowDeps, input: ConnectInput): Promise<ConnectResult> {
  const integration = await integrationOf(deps, input.integration);
  if (!integration.provider.template.grants.authorization_code) {
    throw new InvalidRequestError(`integration ${integration.id} does not connect users through a browser`, {
      error: 'unsupported_grant_type',
    });
  }
  const returnTo = checkReturnUrl(input.returnTo, deps.deployment.config.returnUrls);
  const client = await deps.secrets.getClientSecret(integration.id);
  // PKCE whenever the provider accepts it for this client: it binds the code to this flow (RFC 9700 §2.1.1).
  const pkce = usesPkce(integration.provider, client) ? await createPkce() : undefined;
  const state = createState();
  const redirectUri = callbackUrl(input.baseUrl, integration.id);
  const url = buildAuthorizationUrl(integration.provider, {
    client,
    redirectUri,
    state,
    pkce,
    scopes: integration.config.scopes,
  });
  const now = deps.now();
  const expiresAt = now + CONNECT_STATE_TTL_SECONDS;
  await deps.states.put(
    state,
    {
      integration: integration.id,
      subject: input.subject,
      redirectUri,
      codeVerifier: pkce?.verifier,
      returnTo,
      createdAt: now,
    },
    expiresAt,
  );
  return { authorizeUrl: url.toString(), expiresAt };
}
