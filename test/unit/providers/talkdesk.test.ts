import { TemplateError } from '../../../functions/core/errors.js';
import { buildAuthorizationUrl, createPkce } from '../../../functions/core/oauth/authorize.js';
import { authorizationFor } from '../../../functions/core/oauth/engine.js';
import { buildTokenRequest } from '../../../functions/core/oauth/token-request.js';
import { processTokenResponse } from '../../../functions/core/oauth/token-response.js';
import {
  basicFor,
  builtin,
  confidentialClient,
  formOf,
  NOW,
  publicClient,
  REDIRECT_URI,
  reply,
  tok,
} from './support.js';

describe('talkdesk template', () => {
  it('puts the account on the identity host of its region', async () => {
    expect((await builtin('talkdesk', { account: 'acme' })).endpoints).toMatchObject({
      authorize: 'https://acme.talkdeskid.com/oauth/authorize',
      token: 'https://acme.talkdeskid.com/oauth/token',
    });
    expect((await builtin('talkdesk', { account: 'acme', region: 'talkdeskidca.com' })).endpoints.token).toBe(
      'https://acme.talkdeskidca.com/oauth/token',
    );
    await expect(builtin('talkdesk')).rejects.toThrow(/account: is required/);
    await expect(builtin('talkdesk', { account: 'acme.evil.example' })).rejects.toThrow(TemplateError);
    await expect(builtin('talkdesk', { account: 'acme', region: 'evil.example' })).rejects.toThrow(
      TemplateError,
    );
  });

  it('uses Basic auth, and PKCE with client_id for public clients', async () => {
    const p = await builtin('talkdesk', { account: 'acme', region: 'talkdeskid.eu' });
    const client = confidentialClient();
    const cc = buildTokenRequest(p, { grant: 'client_credentials', scopes: ['data-reports:read'] }, client);
    expect(cc.url).toBe('https://acme.talkdeskid.eu/oauth/token');
    expect(cc.headers.authorization).toBe(basicFor(client));
    expect(formOf(cc)).toEqual({ grant_type: 'client_credentials', scope: 'data-reports:read' });
    const pub = publicClient();
    const pkce = await createPkce();
    const url = buildAuthorizationUrl(p, { client: pub, redirectUri: REDIRECT_URI, state: 's', pkce });
    expect(url.origin + url.pathname).toBe('https://acme.talkdeskid.eu/oauth/authorize');
    expect(url.searchParams.get('code_challenge')).toBe(pkce.challenge);
    const code = tok('code');
    const ac = buildTokenRequest(
      p,
      { grant: 'authorization_code', code, redirectUri: REDIRECT_URI, codeVerifier: pkce.verifier },
      pub,
    );
    expect(ac.headers.authorization).toBeUndefined();
    expect(formOf(ac)).toEqual({
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT_URI,
      code_verifier: pkce.verifier,
      client_id: pub.client_id,
    });
  });

  it('maps a 10-minute token with a refresh token', async () => {
    const p = await builtin('talkdesk', { account: 'acme' });
    const at = tok('at');
    const rt = tok('rt');
    const tokens = processTokenResponse(
      p,
      reply({
        access_token: at,
        token_type: 'Bearer',
        expires_in: 600,
        refresh_token: rt,
        scope: 'users:read',
      }),
      NOW,
    );
    expect(tokens).toMatchObject({
      accessToken: at,
      expiresAt: NOW + 600,
      refreshToken: rt,
      scopes: ['users:read'],
    });
    expect(authorizationFor(p, tokens)).toEqual({ header: 'Authorization', value: `Bearer ${at}` });
  });

  it('knows the identity hosts of all four regions (US, EU, Canada, Australia)', async () => {
    for (const region of ['talkdeskid.com', 'talkdeskid.eu', 'talkdeskidca.com', 'talkdeskid.au']) {
      expect((await builtin('talkdesk', { account: 'acme', region })).endpoints).toMatchObject({
        authorize: `https://acme.${region}/oauth/authorize`,
        token: `https://acme.${region}/oauth/token`,
      });
    }
    // Not talkdeskid.ca: Canada's identity host is talkdeskidca.com.
    await expect(builtin('talkdesk', { account: 'acme', region: 'talkdeskid.ca' })).rejects.toThrow(
      TemplateError,
    );
  });

  it('vends the API gateway of the region named by apiHost', async () => {
    expect((await builtin('talkdesk', { account: 'acme' })).apiBaseUrl).toBe('https://api.talkdeskapp.com');
    expect(
      (await builtin('talkdesk', { account: 'acme', region: 'talkdeskid.eu', apiHost: 'api.talkdeskapp.eu' }))
        .apiBaseUrl,
    ).toBe('https://api.talkdeskapp.eu');
    expect(
      (
        await builtin('talkdesk', {
          account: 'acme',
          region: 'talkdeskidca.com',
          apiHost: 'api.talkdeskappca.com',
        })
      ).apiBaseUrl,
    ).toBe('https://api.talkdeskappca.com');
    await expect(builtin('talkdesk', { account: 'acme', apiHost: 'api.evil.example' })).rejects.toThrow(
      TemplateError,
    );
  });
});
