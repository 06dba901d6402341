import { ConfigError } from '../../../functions/core/errors.js';
import { authorizationFor } from '../../../functions/core/oauth/engine.js';
import { buildTokenRequest } from '../../../functions/core/oauth/token-request.js';
import { processTokenResponse } from '../../../functions/core/oauth/token-response.js';
import { basicFor, builtin, confidentialClient, formOf, NOW, reply, tok } from './support.js';

describe('8x8 template', () => {
  it('asks for client credentials at api.8x8.com with Basic auth', async () => {
    const p = await builtin('8x8');
    const client = confidentialClient();
    const req = buildTokenRequest(p, { grant: 'client_credentials' }, client);
    expect(req.url).toBe('https://api.8x8.com/oauth/v2/token');
    expect(req.headers).toMatchObject({
      authorization: basicFor(client),
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(formOf(req)).toEqual({ grant_type: 'client_credentials' });
    expect(() => buildTokenRequest(p, { grant: 'refresh_token', refreshToken: 'x' }, client)).toThrow(
      ConfigError,
    );
  });

  it('reads expires_in sent as a string and normalises token_type BearerToken', async () => {
    const p = await builtin('8x8');
    const at = tok('at');
    const tokens = processTokenResponse(
      p,
      reply({ access_token: at, token_type: 'BearerToken', expires_in: '1799' }),
      NOW,
    );
    expect(tokens).toMatchObject({ accessToken: at, tokenType: 'Bearer', expiresAt: NOW + 1799 });
    expect(authorizationFor(p, tokens)).toEqual({ header: 'Authorization', value: `Bearer ${at}` });
  });

  it('vends the API base https://api.8x8.com', async () => {
    expect((await builtin('8x8')).apiBaseUrl).toBe('https://api.8x8.com');
  });
});
