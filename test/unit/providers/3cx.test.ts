import { TemplateError } from '../../../functions/core/errors.js';
import { authorizationFor, buildRevokeRequest } from '../../../functions/core/oauth/engine.js';
import { buildTokenRequest } from '../../../functions/core/oauth/token-request.js';
import { processTokenResponse } from '../../../functions/core/oauth/token-response.js';
import { builtin, confidentialClient, formOf, NOW, reply, tok } from './support.js';

describe('3cx template', () => {
  it("points at the customer's own 3CX host, with its port when it has one", async () => {
    const hosted = await builtin('3cx', { host: 'acme.3cx.eu' });
    expect(hosted.endpoints.token).toBe('https://acme.3cx.eu/connect/token');
    expect(hosted.apiBaseUrl).toBe('https://acme.3cx.eu/xapi/v1');
    const own = await builtin('3cx', { host: 'pbx.example.com:5001' });
    expect(own.endpoints.token).toBe('https://pbx.example.com:5001/connect/token');
    expect(own.apiBaseUrl).toBe('https://pbx.example.com:5001/xapi/v1');
  });

  it('requires the host and refuses anything that is not a host name', async () => {
    await expect(builtin('3cx')).rejects.toThrow(TemplateError);
    for (const host of [
      'https://acme.3cx.eu',
      'acme.3cx.eu/connect',
      'admin@acme.3cx.eu',
      'acme.3cx.eu:5001/x',
      'acme.3cx.eu?x=1',
      'localhost',
      'acme..3cx.eu',
      'acme.3cx.eu:',
    ]) {
      await expect(builtin('3cx', { host })).rejects.toThrow(TemplateError);
    }
  });

  it('gets a token with the client ID and API key in the form body', async () => {
    const p = await builtin('3cx', { host: 'acme.3cx.eu' });
    // The client ID is the DN the admin chose; the API key is shown once.
    const client = { client_id: 'crm-sync', client_secret: tok('api-key') };
    const cc = buildTokenRequest(p, { grant: 'client_credentials' }, client);
    expect(cc).toMatchObject({ method: 'POST', url: 'https://acme.3cx.eu/connect/token' });
    expect(cc.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(cc.headers.authorization).toBeUndefined();
    expect(formOf(cc)).toEqual({
      grant_type: 'client_credentials',
      client_id: 'crm-sync',
      client_secret: client.client_secret,
    });
  });

  it('maps the hour-long token, ignores the null refresh token and cannot refresh or revoke', async () => {
    const p = await builtin('3cx', { host: 'acme.3cx.eu' });
    const at = tok('at');
    const tokens = processTokenResponse(
      p,
      reply({ token_type: 'Bearer', expires_in: 3600, access_token: at, refresh_token: null }),
      NOW,
    );
    expect(tokens).toMatchObject({ accessToken: at, tokenType: 'Bearer', expiresAt: NOW + 3600 });
    expect(tokens.refreshToken).toBeUndefined();
    expect(p.template.grants.refresh_token).toBeUndefined();
    expect(p.template.grants.client_credentials?.refreshable).toBe(false);
    expect(buildRevokeRequest(p, tokens, confidentialClient())).toBeUndefined();
    expect(authorizationFor(p, tokens)).toEqual({ header: 'Authorization', value: `Bearer ${at}` });
  });
});
