/**
 * Finishing the authorization code flow: the state is consumed atomically before anything else (a replayed
 * callback finds nothing and makes no vendor call), the response is checked (state, RFC 9207 `iss`, vendor
 * `error=`), the code is redeemed with the stored verifier and the identical redirect_uri, and the connection
 * is stored for the subject recorded at connect time.
 * https://www.rfc-editor.org/rfc/rfc6749#section-4.1.3, https://www.rfc-editor.org/rfc/rfc9207
 */
import { InvalidRequestError } from '../errors.js';
import { validateAuthorizationResponse } from '../oauth/authorize.js';
import { requestToken } from '../oauth/engine.js';
import { withClientSecret } from './client-secret.js';
import { type FlowDeps, integrationOf } from './deps.js';

export interface CallbackInput {
  integration: string;
  params: URLSearchParams;
}

export interface CallbackResult {
  integration: string;
  returnTo?: string | undefined;
}

const MAX_STATE_LENGTH = 512;

export async function finishConnect(deps: FlowDeps, input: CallbackInput): Promise<CallbackResult> {
  const integration = await integrationOf(deps, input.integration);
  const states = input.params.getAll('state');
  const state = states[0];
  if (states.length !== 1 || !state || state.length > MAX_STATE_LENGTH) {
    throw new InvalidRequestError('missing or invalid state');
  }
  const record = await deps.states.consume(state);
  if (!record) throw new InvalidRequestError('unknown, expired or already used state');
  // Mix-up defence: a state issued for one integration is never redeemed at another (RFC 9700 §4.4).
  if (record.integration !== integration.id)
    throw new InvalidRequestError('state was issued for another integration');
  const { code } = validateAuthorizationResponse(integration.provider, input.params, state);
  const tokens = await withClientSecret(deps.secrets, integration.id, (client) =>
    requestToken(
      integration.provider,
      {
        grant: 'authorization_code',
        code,
        redirectUri: record.redirectUri,
        codeVerifier: record.codeVerifier,
      },
      client,
      { fetch: deps.fetch, timeoutMs: deps.vendorTimeoutMs, now: deps.now },
    ),
  );
  await deps.lifecycle.storeNewConnection(integration, {
    subject: record.subject,
    grant: 'authorization_code',
    tokens,
  });
  return { integration: integration.id, returnTo: record.returnTo };
}
