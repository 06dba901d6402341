import { loadBuiltinProviders } from '../../../functions/adapters/provider-files.js';
import { TemplateError } from '../../../functions/core/errors.js';
import { buildAuthorizationUrl, createPkce } from '../../../functions/core/oauth/authorize.js';
import {
  authorizationFor,
  buildRevokeRequest,
  buildUserinfoRequest,
} from '../../../functions/core/oauth/engine.js';
import { selectField } from '../../../functions/core/oauth/response-mapping.js';
import { buildTokenRequest } from '../../../functions/core/oauth/token-request.js';
import { processTokenResponse } from '../../../functions/core/oauth/token-response.js';
import { checkVariableValue } from '../../../functions/core/provider/variables.js';
import { builtin, confidentialClient, jsonOf, NOW, REDIRECT_URI, reply, tok } from './support.js';

describe('zendesk template', () => {
  it('resolves the subdomain and rejects anything that is not one label', async () => {
    expect((await builtin('zendesk', { subdomain: 'acme' })).endpoints).toMatchObject({
      authorize: 'https://acme.zendesk.com/oauth/authorizations/new',
      token: 'https://acme.zendesk.com/oauth/tokens',
    });
    await expect(builtin('zendesk', { subdomain: 'acme.evil.example' })).rejects.toThrow(TemplateError);
  });

  it('asks for the read scope with PKCE and posts JSON with the client credentials', async () => {
    const p = await builtin('zendesk', { subdomain: 'acme' });
    const client = confidentialClient();
    const pkce = await createPkce();
    const url = buildAuthorizationUrl(p, { client, redirectUri: REDIRECT_URI, state: 's', pkce });
    expect(url.searchParams.get('scope')).toBe('read');
    expect(url.searchParams.get('code_challenge')).toBe(pkce.challenge);
    const code = tok('code');
    const ac = buildTokenRequest(
      p,
      { grant: 'authorization_code', code, redirectUri: REDIRECT_URI, codeVerifier: pkce.verifier },
      client,
    );
    expect(ac.headers['content-type']).toBe('application/json');
    expect(ac.headers.authorization).toBeUndefined();
    // Zendesk: clients that do not ask get tokens of their old kind; expires_in / refresh_token_expires_in
    // ask for expiring ones (defaults 30 min / 30 days).
    expect(jsonOf(ac)).toEqual({
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT_URI,
      code_verifier: pkce.verifier,
      client_id: client.client_id,
      client_secret: client.client_secret,
      expires_in: '1800',
      refresh_token_expires_in: '2592000',
    });
    const refreshToken = tok('rt');
    expect(jsonOf(buildTokenRequest(p, { grant: 'refresh_token', refreshToken }, client))).toEqual({
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
      client_id: client.client_id,
      client_secret: client.client_secret,
      expires_in: '1800',
      refresh_token_expires_in: '2592000',
    });
  });

  it('sends the lifetimes an integration chooses, within the ranges Zendesk accepts', async () => {
    const p = await builtin('zendesk', {
      subdomain: 'acme',
      accessTokenExpiresIn: 300,
      refreshTokenExpiresIn: 7776000,
    });
    const client = confidentialClient();
    const refreshToken = tok('rt');
    expect(jsonOf(buildTokenRequest(p, { grant: 'refresh_token', refreshToken }, client))).toMatchObject({
      expires_in: '300',
      refresh_token_expires_in: '7776000',
    });
    for (const vars of [
      { accessTokenExpiresIn: 299 },
      { accessTokenExpiresIn: 172801 },
      { accessTokenExpiresIn: 1800.5 },
      { accessTokenExpiresIn: '1800' },
      { refreshTokenExpiresIn: 604799 },
      { refreshTokenExpiresIn: 7776001 },
    ]) {
      await expect(builtin('zendesk', { subdomain: 'acme', ...vars })).rejects.toThrow(TemplateError);
    }
  });

  it('bounds expires_in to 300..172800 and refresh_token_expires_in to 604800..7776000 exactly', async () => {
    const template = (await loadBuiltinProviders()).get('zendesk');
    const access = template?.variables.accessTokenExpiresIn;
    const refresh = template?.variables.refreshTokenExpiresIn;
    if (!access || !refresh) throw new Error('zendesk lifetime variables missing');
    for (let n = 0; n <= 200_000; n++) {
      if ((checkVariableValue(access, n) === undefined) !== (n >= 300 && n <= 172_800)) {
        throw new Error(`accessTokenExpiresIn wrongly judges ${n}`);
      }
    }
    const probes = [0, 9, 604_799, 604_800, 604_801, 609_999, 999_999, 1_000_000, 7_699_999, 7_775_999];
    for (const base of [...probes, 7_776_000, 7_776_001, 9_999_999, 10_000_000]) {
      for (const n of [base - 1, base, base + 1]) {
        expect({ n, ok: checkVariableValue(refresh, n) === undefined }).toEqual({
          n,
          ok: n >= 604_800 && n <= 7_776_000,
        });
      }
    }
    for (let n = 0; n <= 8_000_000; n += 997) {
      if ((checkVariableValue(refresh, n) === undefined) !== (n >= 604_800 && n <= 7_776_000)) {
        throw new Error(`refreshTokenExpiresIn wrongly judges ${n}`);
      }
    }
  });

  it('has a client_credentials grant: JSON body with the client credentials, not refreshable', async () => {
    const p = await builtin('zendesk', { subdomain: 'acme' });
    const client = confidentialClient();
    const cc = buildTokenRequest(p, { grant: 'client_credentials', scopes: ['read'] }, client);
    expect(cc.url).toBe('https://acme.zendesk.com/oauth/tokens');
    expect(cc.headers['content-type']).toBe('application/json');
    expect(cc.headers.authorization).toBeUndefined();
    expect(jsonOf(cc)).toMatchObject({
      grant_type: 'client_credentials',
      client_id: client.client_id,
      client_secret: client.client_secret,
      scope: 'read',
    });
    expect(p.template.grants.client_credentials?.refreshable).toBe(false);
  });

  it('maps expiring tokens, revokes the current token with DELETE and reads user.id', async () => {
    const p = await builtin('zendesk', { subdomain: 'acme' });
    const at = tok('at');
    const rt = tok('rt');
    const tokens = processTokenResponse(
      p,
      reply({
        access_token: at,
        token_type: 'bearer',
        scope: 'read',
        refresh_token: rt,
        expires_in: 172800,
        refresh_token_expires_in: 7776000,
      }),
      NOW,
    );
    expect(tokens).toMatchObject({
      tokenType: 'Bearer',
      expiresAt: NOW + 172800,
      refreshToken: rt,
      refreshExpiresAt: NOW + 7776000,
    });
    expect(authorizationFor(p, tokens)).toEqual({ header: 'Authorization', value: `Bearer ${at}` });
    expect(buildRevokeRequest(p, tokens, confidentialClient())).toMatchObject({
      method: 'DELETE',
      url: 'https://acme.zendesk.com/api/v2/oauth/tokens/current.json',
      headers: { authorization: `Bearer ${at}` },
    });
    expect(buildUserinfoRequest(p, tokens).url).toBe('https://acme.zendesk.com/api/v2/users/me.json');
    const subject = p.template.endpoints.userinfo?.subject ?? '';
    expect(selectField({ user: { id: 35436, name: 'Agent' } }, subject)).toBe(35436);
  });

  it('vends the API base of the subdomain: https://<subdomain>.zendesk.com/api/v2', async () => {
    expect((await builtin('zendesk', { subdomain: 'acme' })).apiBaseUrl).toBe(
      'https://acme.zendesk.com/api/v2',
    );
  });
});
