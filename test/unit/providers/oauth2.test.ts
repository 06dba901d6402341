import { TemplateError } from '../../../functions/core/errors.js';
import { buildAuthorizationUrl, createPkce } from '../../../functions/core/oauth/authorize.js';
import { authorizationFor } from '../../../functions/core/oauth/engine.js';
import { buildTokenRequest } from '../../../functions/core/oauth/token-request.js';
import { processTokenResponse } from '../../../functions/core/oauth/token-response.js';
import { basicFor, builtin, confidentialClient, formOf, NOW, REDIRECT_URI, reply, tok } from './support.js';

describe('oauth2 (generic) template', () => {
  it('builds endpoints from a host and paths, defaulting to /oauth/authorize and /oauth/token', async () => {
    expect((await builtin('oauth2', { host: 'auth.example.com' })).endpoints).toMatchObject({
      authorize: 'https://auth.example.com/oauth/authorize',
      token: 'https://auth.example.com/oauth/token',
    });
    const kc = await builtin('oauth2', {
      host: 'sso.example.com:8443',
      authorizePath: '/realms/acme/protocol/openid-connect/auth',
      tokenPath: '/realms/acme/protocol/openid-connect/token',
    });
    expect(kc.endpoints.token).toBe('https://sso.example.com:8443/realms/acme/protocol/openid-connect/token');
  });

  it('refuses hosts and paths that would change the origin or add a query', async () => {
    await expect(builtin('oauth2')).rejects.toThrow(/host: is required/);
    for (const host of ['evil.example/x', 'user@evil.example', 'a.example?x=1', 'a.example#f']) {
      await expect(builtin('oauth2', { host })).rejects.toThrow(TemplateError);
    }
    for (const tokenPath of ['token', '/token?x=1', '/token#f', '//evil.example/token']) {
      await expect(builtin('oauth2', { host: 'a.example', tokenPath })).rejects.toThrow(TemplateError);
    }
  });

  it('always uses PKCE S256 and Basic client authentication', async () => {
    const p = await builtin('oauth2', { host: 'auth.example.com' });
    const client = confidentialClient();
    const pkce = await createPkce();
    const url = buildAuthorizationUrl(p, { client, redirectUri: REDIRECT_URI, state: 's', pkce });
    expect(url.searchParams.get('code_challenge')).toBe(pkce.challenge);
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    const code = tok('code');
    const ac = buildTokenRequest(
      p,
      { grant: 'authorization_code', code, redirectUri: REDIRECT_URI, codeVerifier: pkce.verifier },
      client,
    );
    expect(ac.url).toBe('https://auth.example.com/oauth/token');
    expect(ac.headers.authorization).toBe(basicFor(client));
    expect(formOf(ac)).toEqual({
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT_URI,
      code_verifier: pkce.verifier,
    });
    const cc = buildTokenRequest(p, { grant: 'client_credentials', scopes: ['a', 'b'] }, client);
    expect(formOf(cc)).toEqual({ grant_type: 'client_credentials', scope: 'a b' });
  });

  it('maps an RFC 6749 §5.1 answer and falls back to the JWT exp claim', async () => {
    const p = await builtin('oauth2', { host: 'auth.example.com' });
    const at = tok('at');
    expect(
      processTokenResponse(p, reply({ access_token: at, token_type: 'Bearer', expires_in: 600 }), NOW),
    ).toMatchObject({ accessToken: at, tokenType: 'Bearer', expiresAt: NOW + 600 });
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const jwt = `${b64({ alg: 'none' })}.${b64({ exp: NOW + 900 })}.${tok('sig')}`;
    expect(processTokenResponse(p, reply({ access_token: jwt, token_type: 'bearer' }), NOW).expiresAt).toBe(
      NOW + 900,
    );
    expect(authorizationFor(p, { accessToken: at, tokenType: 'Bearer' })).toEqual({
      header: 'Authorization',
      value: `Bearer ${at}`,
    });
  });
});
