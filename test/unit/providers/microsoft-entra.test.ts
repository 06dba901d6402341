import { TemplateError } from '../../../functions/core/errors.js';
import { buildAuthorizationUrl, createPkce } from '../../../functions/core/oauth/authorize.js';
import {
  authorizationFor,
  buildRevokeRequest,
  buildUserinfoRequest,
  isOidc,
} from '../../../functions/core/oauth/engine.js';
import { selectField } from '../../../functions/core/oauth/response-mapping.js';
import { buildTokenRequest } from '../../../functions/core/oauth/token-request.js';
import { processTokenResponse } from '../../../functions/core/oauth/token-response.js';
import { builtin, confidentialClient, formOf, NOW, REDIRECT_URI, reply, tok } from './support.js';

const TENANT_ID = '8eaef023-2b34-4da1-9baa-8bc8c9d6a490';

describe('microsoft-entra template', () => {
  it('puts common, organizations, consumers, a tenant ID or a domain into the v2.0 endpoint path', async () => {
    expect((await builtin('microsoft-entra')).endpoints).toMatchObject({
      authorize: 'https://login.microsoftonline.com/organizations/oauth2/v2.0/authorize',
      token: 'https://login.microsoftonline.com/organizations/oauth2/v2.0/token',
      userinfo: 'https://graph.microsoft.com/v1.0/me',
    });
    expect((await builtin('microsoft-entra')).apiBaseUrl).toBe('https://graph.microsoft.com/v1.0');
    for (const tenant of ['common', 'consumers', TENANT_ID, 'contoso.onmicrosoft.com', 'contoso.com']) {
      expect((await builtin('microsoft-entra', { tenant })).endpoints.token).toBe(
        `https://login.microsoftonline.com/${tenant}/oauth2/v2.0/token`,
      );
    }
  });

  it('rejects a tenant that could leave the path segment or name another host', async () => {
    for (const tenant of [
      'common/../evil',
      'contoso.com/oauth2',
      'evil.example?x=',
      'evil.example#',
      'user@evil.example',
      '..',
      '',
      'contoso..com',
      '-contoso.com',
      'common organizations',
    ]) {
      await expect(builtin('microsoft-entra', { tenant })).rejects.toThrow(TemplateError);
    }
  });

  it('takes the national-cloud hosts only from their lists', async () => {
    const p = await builtin('microsoft-entra', {
      tenant: TENANT_ID,
      loginHost: 'login.microsoftonline.us',
      graphHost: 'graph.microsoft.us',
    });
    expect(p.endpoints.token).toBe(`https://login.microsoftonline.us/${TENANT_ID}/oauth2/v2.0/token`);
    expect(p.endpoints.userinfo).toBe('https://graph.microsoft.us/v1.0/me');
    expect(p.apiBaseUrl).toBe('https://graph.microsoft.us/v1.0');
    await expect(builtin('microsoft-entra', { loginHost: 'login.evil.example' })).rejects.toThrow(
      TemplateError,
    );
    await expect(builtin('microsoft-entra', { graphHost: 'graph.evil.example' })).rejects.toThrow(
      TemplateError,
    );
  });

  it('asks for offline_access with PKCE and response_mode=query, and redeems with the secret in the body', async () => {
    const p = await builtin('microsoft-entra', { tenant: TENANT_ID });
    const client = confidentialClient();
    const pkce = await createPkce();
    const url = buildAuthorizationUrl(p, { client, redirectUri: REDIRECT_URI, state: 's', pkce });
    expect(`${url.origin}${url.pathname}`).toBe(
      `https://login.microsoftonline.com/${TENANT_ID}/oauth2/v2.0/authorize`,
    );
    expect(url.searchParams.get('scope')).toBe('offline_access User.Read');
    expect(url.searchParams.get('response_mode')).toBe('query');
    expect(url.searchParams.get('code_challenge')).toBe(pkce.challenge);
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');

    const code = tok('code');
    const ac = buildTokenRequest(
      p,
      { grant: 'authorization_code', code, redirectUri: REDIRECT_URI, codeVerifier: pkce.verifier },
      client,
    );
    expect(ac.url).toBe(`https://login.microsoftonline.com/${TENANT_ID}/oauth2/v2.0/token`);
    expect(ac.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(ac.headers.authorization).toBeUndefined();
    expect(formOf(ac)).toEqual({
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT_URI,
      code_verifier: pkce.verifier,
      client_id: client.client_id,
      client_secret: client.client_secret,
    });
  });

  it('refreshes with the body secret, narrowing scopes only when asked', async () => {
    const p = await builtin('microsoft-entra', { tenant: TENANT_ID });
    const client = confidentialClient();
    const refreshToken = tok('rt');
    expect(formOf(buildTokenRequest(p, { grant: 'refresh_token', refreshToken }, client))).toEqual({
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
      client_id: client.client_id,
      client_secret: client.client_secret,
    });
    const narrowed = buildTokenRequest(
      p,
      { grant: 'refresh_token', refreshToken, scopes: ['https://graph.microsoft.com/Calls.Initiate.All'] },
      client,
    );
    expect(formOf(narrowed).scope).toBe('https://graph.microsoft.com/Calls.Initiate.All');
  });

  it('gets an app-only token with the /.default scope of the resource and keeps no refresh token', async () => {
    const p = await builtin('microsoft-entra', { tenant: TENANT_ID });
    const client = confidentialClient();
    const cc = buildTokenRequest(
      p,
      { grant: 'client_credentials', scopes: ['https://graph.microsoft.com/.default'] },
      client,
    );
    expect(formOf(cc)).toEqual({
      grant_type: 'client_credentials',
      scope: 'https://graph.microsoft.com/.default',
      client_id: client.client_id,
      client_secret: client.client_secret,
    });
    expect(p.template.grants.client_credentials?.refreshable).toBe(false);
    const at = tok('at');
    const tokens = processTokenResponse(
      p,
      reply({ token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: at }),
      NOW,
    );
    expect(tokens).toMatchObject({ accessToken: at, tokenType: 'Bearer', expiresAt: NOW + 3599 });
    expect(tokens.refreshToken).toBeUndefined();
  });

  it('maps the code answer, has no revoke endpoint, is not treated as OIDC and reads id from Graph /me', async () => {
    const p = await builtin('microsoft-entra', { tenant: TENANT_ID });
    const at = tok('at');
    const rt = tok('rt');
    const tokens = processTokenResponse(
      p,
      reply({
        access_token: at,
        token_type: 'Bearer',
        expires_in: 3599,
        scope: 'https://graph.microsoft.com/User.Read',
        refresh_token: rt,
        id_token: tok('idt'),
      }),
      NOW,
    );
    expect(tokens).toMatchObject({ tokenType: 'Bearer', expiresAt: NOW + 3599, refreshToken: rt });
    // No RFC 7009 endpoint: disconnecting deletes the connection only.
    expect(buildRevokeRequest(p, tokens, confidentialClient())).toBeUndefined();
    // Multi-tenant issuers are templated by tenant, so no issuer is pinned and ID tokens are never kept.
    expect(isOidc(p)).toBe(false);
    expect(authorizationFor(p, tokens)).toEqual({ header: 'Authorization', value: `Bearer ${at}` });
    const me = buildUserinfoRequest(p, tokens);
    expect(me.url).toBe('https://graph.microsoft.com/v1.0/me');
    expect(me.headers.authorization).toBe(`Bearer ${at}`);
    const subject = p.template.endpoints.userinfo?.subject ?? '';
    expect(selectField({ id: '87d349ed-44d7-43e1-9a83-5f2406dee5bd', displayName: 'Agent' }, subject)).toBe(
      '87d349ed-44d7-43e1-9a83-5f2406dee5bd',
    );
  });

  it('keeps a refresh token alive for at most its 90-day unused lifetime', async () => {
    const p = await builtin('microsoft-entra');
    expect(p.template.refresh).toMatchObject({ rotates: false, refreshTokenIdleSeconds: 90 * 86400 });
  });
});
