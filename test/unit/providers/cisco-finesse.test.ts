import { ConfigError, TemplateError } from '../../../functions/core/errors.js';
import { buildVerifyRequest, credentialsOf } from '../../../functions/core/flows/credentials.js';
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

  describe('per-user credentials (non-SSO Finesse)', () => {
    const withFinesse = { ...vars, finesseHost: 'finesse1.cc.example.com' };
    const integrationOf = async (v: Record<string, unknown>) => {
      const provider = await builtin('cisco-finesse', v);
      return { id: 'finesse', provider, config: {} } as never;
    };
    const spec = async () => (await builtin('cisco-finesse', withFinesse)).template.grants.user_credentials!;

    it('checks an agent with their own Basic credentials at Finesse’s User GET, username URL-encoded', async () => {
      const integration = await integrationOf(withFinesse);
      const password = tok('pw');
      const request = buildVerifyRequest(integration, await spec(), {
        username: 'jo.smith@cc.example.com',
        password,
      });
      expect(request).toMatchObject({
        method: 'GET',
        url: 'https://finesse1.cc.example.com/finesse/api/User/jo.smith%40cc.example.com',
        headers: { authorization: basicOf('jo.smith@cc.example.com', password) },
      });
      expect(request.body).toBeUndefined();
    });

    it('takes the Finesse host with the desktop port 8445 or 443, and nothing that could move the request', async () => {
      for (const host of ['finesse1.cc.example.com:8445', 'finesse1.cc.example.com:443']) {
        const integration = await integrationOf({ ...vars, finesseHost: host });
        const request = buildVerifyRequest(integration, await spec(), {
          username: 'agent1001',
          password: tok('pw'),
        });
        expect(request.url).toBe(`https://${host}/finesse/api/User/agent1001`);
      }
      for (const bad of [
        'finesse.example.com:8080',
        'finesse.example.com/evil',
        'u@finesse.example.com',
        'localhost',
      ]) {
        await expect(builtin('cisco-finesse', { ...vars, finesseHost: bad })).rejects.toThrow(TemplateError);
      }
    });

    it('accepts Finesse login names and refuses anything that could change the path', async () => {
      const pattern = new RegExp(`^(?:${(await spec()).username.pattern})$`, 'u');
      for (const ok of ['agent1001', '1001001', 'csmith', 'jo.smith@cc.example.com', 'a_b-c']) {
        expect([ok, pattern.test(ok)]).toEqual([ok, true]);
      }
      for (const bad of ['', 'a/b', 'a b', 'a?b', 'a#b', 'a%2Fb', 'a\\b', 'x'.repeat(129)]) {
        expect([bad, pattern.test(bad)]).toEqual([bad, false]);
      }
      // `..` matches the pattern but is a dot segment: the flow refuses it before any URL is built.
      expect(pattern.test('..')).toBe(true);
      expect(() => credentialsOf({ username: '..', password: tok('pw') })).toThrow(/must not be/);
    });

    it('SSO-only integrations need no Finesse host; checking credentials without one is a configuration error', async () => {
      const integration = await integrationOf(vars);
      const password = tok('pw');
      let error: unknown;
      try {
        buildVerifyRequest(integration, await spec(), { username: 'agent1001', password });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect(String((error as Error).message)).toMatch(/finesseHost/);
      expect(String((error as Error).message)).not.toContain(password);
    });

    it('the stored credentials are vended as Basic by the default usage', async () => {
      const p = await builtin('cisco-finesse', withFinesse);
      const password = tok('pw');
      const accessToken = Buffer.from(`agent1001:${password}`, 'utf8').toString('base64');
      expect(authorizationFor(p, { accessToken, tokenType: 'Basic' })).toEqual({
        header: 'Authorization',
        value: basicOf('agent1001', password),
      });
    });
  });
});
