import { TemplateError } from '../../../functions/core/errors.js';
import { buildAuthorizationUrl } from '../../../functions/core/oauth/authorize.js';
import { authorizationFor } from '../../../functions/core/oauth/engine.js';
import { buildTokenRequest } from '../../../functions/core/oauth/token-request.js';
import { processTokenResponse } from '../../../functions/core/oauth/token-response.js';
import { builtin, confidentialClient, formOf, NOW, REDIRECT_URI, reply, tok } from './support.js';

describe('dialpad template', () => {
  it('targets dialpad.com or the sandbox', async () => {
    expect((await builtin('dialpad')).endpoints).toMatchObject({
      authorize: 'https://dialpad.com/oauth2/authorize',
      token: 'https://dialpad.com/oauth2/token',
    });
    expect((await builtin('dialpad', { host: 'sandbox.dialpad.com' })).endpoints.token).toBe(
      'https://sandbox.dialpad.com/oauth2/token',
    );
    await expect(builtin('dialpad', { host: 'dialpad.example' })).rejects.toThrow(TemplateError);
  });

  it('sends the client credentials in the form body', async () => {
    const p = await builtin('dialpad');
    const client = confidentialClient();
    const url = buildAuthorizationUrl(p, {
      client,
      redirectUri: REDIRECT_URI,
      state: 's',
      scopes: ['calls:list'],
    });
    expect(url.origin + url.pathname).toBe('https://dialpad.com/oauth2/authorize');
    const code = tok('code');
    const ac = buildTokenRequest(p, { grant: 'authorization_code', code, redirectUri: REDIRECT_URI }, client);
    expect(ac.headers.authorization).toBeUndefined();
    expect(formOf(ac)).toEqual({
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT_URI,
      client_id: client.client_id,
      client_secret: client.client_secret,
    });
  });

  it('maps an answer without expiry as a token that does not expire', async () => {
    const p = await builtin('dialpad');
    const at = tok('at');
    const tokens = processTokenResponse(
      p,
      reply({ access_token: at, id_token: tok('idt'), token_type: 'bearer' }),
      NOW,
    );
    expect(tokens).toMatchObject({ accessToken: at, tokenType: 'Bearer', expiresAt: undefined });
    expect(authorizationFor(p, tokens)).toEqual({ header: 'Authorization', value: `Bearer ${at}` });
  });

  it('vends the API base of the host: https://<host>/api/v2', async () => {
    expect((await builtin('dialpad')).apiBaseUrl).toBe('https://dialpad.com/api/v2');
    expect((await builtin('dialpad', { host: 'sandbox.dialpad.com' })).apiBaseUrl).toBe(
      'https://sandbox.dialpad.com/api/v2',
    );
  });
});
