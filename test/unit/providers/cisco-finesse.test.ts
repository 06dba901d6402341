import { TemplateError } from '../../../functions/core/errors.js';
import { buildAuthorizationUrl } from '../../../functions/core/oauth/authorize.js';
import { authorizationFor, staticTokenSet } from '../../../functions/core/oauth/engine.js';
import { buildTokenRequest } from '../../../functions/core/oauth/token-request.js';
import { processTokenResponse } from '../../../functions/core/oauth/token-response.js';
import { refreshDueAt } from '../../../functions/core/refresh-policy.js';
import {
  basicFor,
  basicOf,
  builtin,
  confidentialClient,
  formOf,
  NOW,
  REDIRECT_URI,
  reply,
  tok,
} from './support.js';

const vars = { idsHost: 'ids.cc.example.com' };

describe('cisco-finesse template', () => {
  it('needs an IdS host name and puts the endpoints on port 8553', async () => {
    const p = await builtin('cisco-finesse', vars);
    expect(p.endpoints).toMatchObject({
      authorize: 'https://ids.cc.example.com:8553/ids/v1/oauth/authorize',
      token: 'https://ids.cc.example.com:8553/ids/v1/oauth/token',
    });
    await expect(builtin('cisco-finesse')).rejects.toThrow(/idsHost: is required/);
    for (const bad of ['ids.example.com/evil', 'user@ids.example.com', 'ids.example.com:443', 'localhost']) {
      await expect(builtin('cisco-finesse', { idsHost: bad })).rejects.toThrow(TemplateError);
    }
  });

  it('builds a plain authorization URL and Basic-authenticated token requests', async () => {
    const p = await builtin('cisco-finesse', vars);
    const client = confidentialClient();
    const url = buildAuthorizationUrl(p, { client, redirectUri: REDIRECT_URI, state: 's' });
    expect(url.origin + url.pathname).toBe('https://ids.cc.example.com:8553/ids/v1/oauth/authorize');
    expect(url.searchParams.has('code_challenge')).toBe(false);
    const code = tok('code');
    const ac = buildTokenRequest(p, { grant: 'authorization_code', code, redirectUri: REDIRECT_URI }, client);
    expect(ac.url).toBe('https://ids.cc.example.com:8553/ids/v1/oauth/token');
    expect(ac.headers.authorization).toBe(basicFor(client));
    expect(formOf(ac)).toEqual({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI });
    const refreshToken = tok('rt');
    const rt = buildTokenRequest(p, { grant: 'refresh_token', refreshToken }, client);
    expect(formOf(rt)).toEqual({ grant_type: 'refresh_token', refresh_token: refreshToken });
  });

  it('refreshes after 75% of the token lifetime', async () => {
    const p = await builtin('cisco-finesse', vars);
    const tokens = processTokenResponse(
      p,
      reply({ access_token: tok('at'), token_type: 'Bearer', expires_in: 3600, refresh_token: tok('rt') }),
      NOW,
    );
    expect(tokens).toMatchObject({ tokenType: 'Bearer', expiresAt: NOW + 3600 });
    expect(refreshDueAt(p.template.refresh, tokens)).toBe(NOW + 2700);
  });

  it('sends SSO tokens as Bearer and non-SSO credentials as Basic user:password', async () => {
    const p = await builtin('cisco-finesse', vars);
    const at = tok('at');
    expect(authorizationFor(p, { accessToken: at, tokenType: 'Bearer' })).toEqual({
      header: 'Authorization',
      value: `Bearer ${at}`,
    });
    const secret = { username: 'agent1001', password: tok('pw') };
    const basic = staticTokenSet(p, secret, NOW);
    expect(basic.expiresAt).toBeUndefined();
    expect(authorizationFor(p, basic).value).toBe(basicOf('agent1001', secret.password));
  });
});
