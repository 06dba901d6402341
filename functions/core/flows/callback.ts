/**
 * Finishing the authorization code flow: the state is consumed atomically before anything else (a replayed
 * callback finds nothing and makes no vendor call), the response is checked (state, RFC 9207 `iss`, vendor
 * `error=`), the code is redeemed with the stored verifier and the identical redirect_uri, an OpenID Connect
 * ID token is checked (signature, iss, aud, exp, nonce), and the tokens are PARKED, not stored: whoever signed
 * in at the vendor, only the subject that started the flow can claim them (claim.ts). The browser goes back to
 * the app's return URL with the one-time claim code.
 * https://www.rfc-editor.org/rfc/rfc6749#section-4.1.3, https://www.rfc-editor.org/rfc/rfc9207,
 * https://www.rfc-editor.org/rfc/rfc6749#section-10.12, https://www.rfc-editor.org/rfc/rfc9700#section-4.7
 */
import { randomBytes } from 'node:crypto';
import { InvalidRequestError } from '../errors.js';
import { validateAuthorizationResponse } from '../oauth/authorize.js';
import { isOidc, requestToken, verifyIdToken } from '../oauth/engine.js';
import { bindToConnection } from '../provider/resolve.js';
import type { TokenSet } from '../token-set.js';
import { type BrowserFlowDeps, discardTokens } from './claim.js';
import { withClientSecret } from './client-secret.js';
import { integrationOf } from './deps.js';

/** How long parked tokens wait for their claim (at most ten minutes; the app claims within seconds). */
export const PARKED_TTL_SECONDS = 600;

/** Revocation of tokens we will not keep is attempted once, without retries: the user is waiting for a page. */
const NO_RETRY = { retries: 0, minTimeout: 0, maxTimeout: 0, randomize: false } as const;

export interface CallbackInput {
  integration: string;
  params: URLSearchParams;
}

export interface CallbackResult {
  integration: string;
  /** The subject that started the flow: the only one that can claim it. */
  subject: string;
  /** The allow-listed return URL of the connect request. */
  returnTo: string;
  /** The one-time claim code for the app (`?claim=`). */
  claim: string;
}

const MAX_STATE_LENGTH = 512;

/** 32 random bytes, base64url: a bearer secret until claimed, stored only as a hash. */
export function createClaimCode(): string {
  return randomBytes(32).toString('base64url');
}

export async function finishConnect(deps: BrowserFlowDeps, input: CallbackInput): Promise<CallbackResult> {
  const configured = await integrationOf(deps, input.integration);
  const states = input.params.getAll('state');
  const state = states[0];
  if (states.length !== 1 || !state || state.length > MAX_STATE_LENGTH) {
    throw new InvalidRequestError('missing or invalid state');
  }
  const record = await deps.states.consume(state);
  if (!record) throw new InvalidRequestError('unknown, expired or already used state');
  // Mix-up defence: a state issued for one integration is never redeemed at another (RFC 9700 §4.4).
  if (record.integration !== configured.id)
    throw new InvalidRequestError('state was issued for another integration');
  // Nobody could claim the result (a state stored before return URLs were required): redeem nothing.
  const returnTo = record.returnTo;
  if (!returnTo) throw new InvalidRequestError('this connect flow has no return URL; connect again');
  const { code, metadata } = validateAuthorizationResponse(configured.provider, input.params, state);
  // The code is redeemed where the user's callback says it was issued (a data centre it selected).
  const integration = { ...configured, provider: bindToConnection(configured.provider, metadata) };
  const engine = { fetch: deps.fetch, timeoutMs: deps.vendorTimeoutMs, now: deps.now };
  let clientId = '';
  let tokens: TokenSet = await withClientSecret(deps.secrets, integration.id, (client) => {
    clientId = client.client_id;
    return requestToken(
      integration.provider,
      {
        grant: 'authorization_code',
        code,
        redirectUri: record.redirectUri,
        codeVerifier: record.codeVerifier,
      },
      client,
      engine,
    );
  });
  if (metadata) tokens = { ...tokens, metadata: { ...tokens.metadata, ...metadata } };
  const claim = createClaimCode();
  try {
    if (isOidc(integration.provider)) {
      const scopes = integration.config.scopes ?? integration.provider.template.authorize.defaultScopes;
      const subject = await verifyIdToken(
        integration.provider,
        tokens.idToken,
        { clientId, nonce: record.nonce, required: scopes.includes('openid') },
        engine,
      );
      if (tokens.subject === undefined && subject !== undefined) tokens = { ...tokens, subject };
    }
    const now = deps.now();
    await deps.parked.park(
      claim,
      {
        integration: integration.id,
        subject: record.subject,
        grant: 'authorization_code',
        tokens,
        createdAt: now,
      },
      now + PARKED_TTL_SECONDS,
    );
  } catch (error) {
    // The vendor issued tokens we will not keep (a refused ID token, a failed write): revoke, then answer.
    await discardTokens(deps, integration, tokens, NO_RETRY);
    throw error;
  }
  return { integration: integration.id, subject: record.subject, returnTo, claim };
}
