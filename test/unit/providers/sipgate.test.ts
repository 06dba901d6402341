import { AuthorizationResponseError } from '../../../functions/core/errors.js';
import {
  buildAuthorizationUrl,
  createPkce,
  validateAuthorizationResponse,
} from '../../../functions/core/oauth/authorize.js';
import {
  authorizationFor,
  buildRevokeRequest,
  buildUserinfoRequest,
  staticTokenSet,
} from '../../../functions/core/oauth/engine.js';
import { buildTokenRequest } from '../../../functions/core/oauth/token-request.js';
import { processTokenResponse } from '../../../functions/core/oauth/token-response.js';
import { refreshTokenLapsesAt } from '../../../functions/core/refresh-policy.js';
import { basicOf, builtin, confidentialClient, formOf, NOW, REDIRECT_URI, reply, tok } from './support.js';

/** The default realm: sipgate creates new OAuth clients in `sipgate-apps` (developer.sipgate.io, Authentication). */
const realmBase = 'https://login.sipgate.com/auth/realms/sipgate-apps';
const olderRealmBase = 'https://login.sipgate.com/auth/realms/third-party';

describe('sipgate template', () => {
  it('resolves the Keycloak endpoints of the realm, sipgate-apps unless the client is an older third-party one', async () => {
    const p = await builtin('sipgate');
    expect(p.vars.realm).toBe('sipgate-apps');
    expect(p.endpoints).toMatchObject({
      authorize: `${realmBase}/protocol/openid-connect/auth`,
      token: `${realmBase}/protocol/openid-connect/token`,
      revoke: `${realmBase}/protocol/openid-connect/revoke`,
      userinfo: 'https://api.sipgate.com/v2/authorization/userinfo',
    });
    expect(p.issuer).toBe(realmBase);
    const older = await builtin('sipgate', { realm: 'third-party' });
    expect(older.endpoints.token).toBe(`${olderRealmBase}/protocol/openid-connect/token`);
    expect(older.issuer).toBe(olderRealmBase);
  });

  it('asks with PKCE; accepts an answer without iss, but checks an iss that is there (RFC 9207)', async () => {
    const p = await builtin('sipgate');
    const pkce = await createPkce();
    const url = buildAuthorizationUrl(p, {
      client: confidentialClient(),
      redirectUri: REDIRECT_URI,
      state: 'st',
      pkce,
      scopes: ['account:read', 'history:read'],
    });
    expect(url.searchParams.get('scope')).toBe('account:read history:read');
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    const code = tok('code');
    expect(
      validateAuthorizationResponse(p, new URLSearchParams({ code, state: 'st', iss: realmBase }), 'st'),
    ).toEqual({ code });
    // Keycloak before version 23, or a client with "Exclude Issuer From Authentication Response", sends no iss.
    expect(validateAuthorizationResponse(p, new URLSearchParams({ code, state: 'st' }), 'st')).toEqual({
      code,
    });
    // An iss naming another realm (or another server) is a mix-up: refused.
    expect(() =>
      validateAuthorizationResponse(p, new URLSearchParams({ code, state: 'st', iss: olderRealmBase }), 'st'),
    ).toThrow(AuthorizationResponseError);
    expect(() =>
      validateAuthorizationResponse(
        p,
        new URLSearchParams({
          code,
          state: 'st',
          iss: 'https://login.sipgate.com.evil.example/auth/realms/sipgate-apps',
        }),
        'st',
      ),
    ).toThrow(AuthorizationResponseError);
    const older = await builtin('sipgate', { realm: 'third-party' });
    expect(
      validateAuthorizationResponse(
        older,
        new URLSearchParams({ code, state: 'st', iss: olderRealmBase }),
        'st',
      ),
    ).toEqual({ code });
    expect(() =>
      validateAuthorizationResponse(older, new URLSearchParams({ code, state: 'st', iss: realmBase }), 'st'),
    ).toThrow(AuthorizationResponseError);
  });

  it('sends the client credentials in the form body', async () => {
    const p = await builtin('sipgate');
    const client = confidentialClient();
    const verifier = tok('verifier');
    const code = tok('code');
    const ac = buildTokenRequest(
      p,
      { grant: 'authorization_code', code, redirectUri: REDIRECT_URI, codeVerifier: verifier },
      client,
    );
    expect(ac.url).toBe(`${realmBase}/protocol/openid-connect/token`);
    expect(ac.headers.authorization).toBeUndefined();
    expect(formOf(ac)).toEqual({
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT_URI,
      code_verifier: verifier,
      client_id: client.client_id,
      client_secret: client.client_secret,
    });
    const refreshToken = tok('rt');
    const rt = buildTokenRequest(p, { grant: 'refresh_token', refreshToken }, client);
    expect(rt.headers.authorization).toBeUndefined();
    expect(formOf(rt)).toEqual({
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
      client_id: client.client_id,
      client_secret: client.client_secret,
    });
  });

  it('maps the Keycloak answer: 300 s access token, refresh_expires_in, 30-day idle lapse', async () => {
    const p = await builtin('sipgate');
    const at = tok('at');
    const rt = tok('rt');
    const tokens = processTokenResponse(
      p,
      reply({
        access_token: at,
        expires_in: 300,
        refresh_expires_in: 2592000,
        refresh_token: rt,
        token_type: 'bearer',
        id_token: tok('idt'),
        'not-before-policy': 0,
        session_state: tok('session'),
        scope: 'all',
      }),
      NOW,
    );
    expect(tokens).toMatchObject({
      accessToken: at,
      tokenType: 'Bearer',
      expiresAt: NOW + 300,
      refreshToken: rt,
      refreshExpiresAt: NOW + 2592000,
    });
    expect(p.template.refresh.rotates).toBe(true);
    expect(refreshTokenLapsesAt(p.template.refresh, { ...tokens, refreshExpiresAt: undefined })).toBe(
      NOW + 2592000,
    );
  });

  it('uses Bearer for OAuth tokens and Basic token_id:token for personal access tokens', async () => {
    const p = await builtin('sipgate');
    const tokens = { accessToken: tok('at'), tokenType: 'Bearer', issuedAt: NOW };
    expect(authorizationFor(p, tokens)).toEqual({
      header: 'Authorization',
      value: `Bearer ${tokens.accessToken}`,
    });
    expect(buildUserinfoRequest(p, tokens).headers.authorization).toBe(`Bearer ${tokens.accessToken}`);
    const secret = { token_id: tok('token-id'), token: tok('pat') };
    const pat = staticTokenSet(p, secret, NOW);
    expect(authorizationFor(p, pat)).toEqual({
      header: 'Authorization',
      value: basicOf(secret.token_id, secret.token),
    });
    const client = confidentialClient();
    const revoke = buildRevokeRequest(p, { ...tokens, refreshToken: tok('rt') }, client);
    expect(revoke?.url).toBe(`${realmBase}/protocol/openid-connect/revoke`);
    expect(formOf(revoke ?? {})).toMatchObject({
      client_id: client.client_id,
      client_secret: client.client_secret,
    });
  });

  it('vends the REST API base https://api.sipgate.com/v2 whatever the realm', async () => {
    expect((await builtin('sipgate')).apiBaseUrl).toBe('https://api.sipgate.com/v2');
    expect((await builtin('sipgate', { realm: 'third-party' })).apiBaseUrl).toBe(
      'https://api.sipgate.com/v2',
    );
  });
});
