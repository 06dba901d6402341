/**
 * Starting the authorization code flow (DESIGN flow 1): a single-use state record holding the subject,
 * the PKCE verifier, the redirect URI, the allow-listed return URL and (OpenID Connect) the nonce; the answer is
 * the vendor's authorize URL. The return URL is required: the browser must come back to the app, which claims
 * the finished flow with its own user JWT (claim.ts).
 * https://www.rfc-editor.org/rfc/rfc6749#section-4.1.1, https://www.rfc-editor.org/rfc/rfc9700#section-2.1
 */
import { InvalidRequestError, TokenvendError } from '../errors.js';
import { buildAuthorizationUrl, createNonce, createPkce, createState, usesPkce } from '../oauth/authorize.js';
import { isOidc } from '../oauth/engine.js';
import { callbackUrl, type FlowDeps, integrationOf } from './deps.js';
import { checkReturnUrl } from './return-url.js';

/** Ten minutes: long enough for a vendor login with MFA, short enough that a leaked state is useless. */
export const CONNECT_STATE_TTL_SECONDS = 600;

/**
 * Unexpired, unfinished connect flows one subject may have at a time (security checklist 54): enough for a
 * few tabs and retries, few enough that one caller cannot fill the table with states.
 */
export const MAX_OUTSTANDING_CONNECT_STATES = 20;

/** 429 `slow_down`: the subject has {@link MAX_OUTSTANDING_CONNECT_STATES} unfinished flows. */
export class TooManyConnectFlowsError extends TokenvendError {
  readonly retryAfterSeconds: number;

  constructor(retryAfterSeconds: number) {
    super(
      `too many unfinished connect flows (at most ${MAX_OUTSTANDING_CONNECT_STATES}); finish one or retry later`,
      { error: 'slow_down', status: 429 },
    );
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

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
  if (!returnTo) {
    throw new InvalidRequestError(
      'return_to is required: the browser comes back to the app, which claims the connection',
    );
  }
  const client = await deps.secrets.getClientSecret(integration.id);
  // PKCE whenever the provider accepts it for this client: it binds the code to this flow (RFC 9700 §2.1.1).
  const pkce = usesPkce(integration.provider, client) ? await createPkce() : undefined;
  // OpenID Connect: the ID token must carry this nonce (OIDC Core §3.1.2.1), checked at the callback.
  const nonce = isOidc(integration.provider) ? createNonce() : undefined;
  const state = createState();
  const redirectUri = callbackUrl(input.baseUrl, integration.id);
  const url = buildAuthorizationUrl(integration.provider, {
    client,
    redirectUri,
    state,
    pkce,
    nonce,
    scopes: integration.config.scopes,
  });
  const now = deps.now();
  const expiresAt = now + CONNECT_STATE_TTL_SECONDS;
  const put = await deps.states.put(
    state,
    {
      integration: integration.id,
      subject: input.subject,
      redirectUri,
      codeVerifier: pkce?.verifier,
      returnTo,
      nonce,
      createdAt: now,
    },
    expiresAt,
    { maxPerSubject: MAX_OUTSTANDING_CONNECT_STATES },
  );
  if (!put.stored) throw new TooManyConnectFlowsError(Math.max(1, put.freeAt - now));
  return { authorizeUrl: url.toString(), expiresAt };
}
