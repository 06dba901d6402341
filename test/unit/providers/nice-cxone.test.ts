import { authorizationFor } from '../../../functions/core/oauth/engine.js';
import { buildTokenRequest } from '../../../functions/core/oauth/token-request.js';
import { processTokenResponse } from '../../../functions/core/oauth/token-response.js';
import { basicFor, builtin, confidentialClient, formOf, NOW, reply, tok } from './support.js';

describe('nice-cxone template', () => {
  it('exchanges an access key id and secret with the password grant, percent-encoding "="', async () => {
    const p = await builtin('nice-cxone');
    const client = confidentialClient();
    const keyId = tok('AKID');
    const keySecret = `${tok('secret')}==`;
    const req = buildTokenRequest(p, { grant: 'password', username: keyId, password: keySecret }, client);
    expect(req.url).toBe('https://cxone.niceincontact.com/auth/token');
    expect(req.headers.authorization).toBe(basicFor(client));
    expect(req.body).toContain('%3D%3D');
    expect(req.body).not.toContain('==');
    expect(formOf(req)).toEqual({ grant_type: 'password', username: keyId, password: keySecret });
    const refreshToken = tok('rt');
    expect(formOf(buildTokenRequest(p, { grant: 'refresh_token', refreshToken }, client))).toEqual({
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
    });
  });

  it('maps the CXone answer and uses Bearer', async () => {
    const p = await builtin('nice-cxone');
    const at = tok('at');
    const rt = tok('rt');
    const tokens = processTokenResponse(
      p,
      reply({
        access_token: at,
        token_type: 'Bearer',
        expires_in: 3600,
        refresh_token: rt,
        id_token: tok('idt'),
        issued_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      }),
      NOW,
    );
    expect(tokens).toMatchObject({
      accessToken: at,
      tokenType: 'Bearer',
      expiresAt: NOW + 3600,
      refreshToken: rt,
    });
    expect(authorizationFor(p, tokens)).toEqual({ header: 'Authorization', value: `Bearer ${at}` });
  });
});
