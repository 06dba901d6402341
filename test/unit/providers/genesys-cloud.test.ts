import { loadBuiltinProviders } from '../../../functions/adapters/provider-files.js';
import { loadDeployment } from '../../../functions/core/config/deployment.js';
import { TemplateError } from '../../../functions/core/errors.js';
import { buildAuthorizationUrl, createPkce, usesPkce } from '../../../functions/core/oauth/authorize.js';
import {
  authorizationFor,
  buildRevokeRequest,
  buildUserinfoRequest,
} from '../../../functions/core/oauth/engine.js';
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

const vars = { region: 'mypurecloud.ie', orgName: 'acme' };

describe('genesys-cloud template', () => {
  it('resolves login and api hosts of the region, defaulting to mypurecloud.com', async () => {
    const p = await builtin('genesys-cloud', vars);
    expect(p.endpoints).toMatchObject({
      authorize: 'https://login.mypurecloud.ie/oauth/authorize',
      token: 'https://login.mypurecloud.ie/oauth/token',
      revoke: 'https://api.mypurecloud.ie/api/v2/tokens/me',
      userinfo: 'https://api.mypurecloud.ie/api/v2/users/me',
    });
    expect((await builtin('genesys-cloud')).endpoints.token).toBe(
      'https://login.mypurecloud.com/oauth/token',
    );
    expect((await builtin('genesys-cloud', { region: 'apne3.pure.cloud' })).endpoints.token).toBe(
      'https://login.apne3.pure.cloud/oauth/token',
    );
    await expect(builtin('genesys-cloud', { region: 'evil.example' })).rejects.toThrow(TemplateError);
  });

  it('accepts exactly the 17 region domains of the Genesys SDK region-host table', async () => {
    // PureCloudRegionHosts.js of MyPureCloud/platform-client-sdk-javascript (docs/providers/genesys-cloud.md).
    const sdkRegionHosts = [
      'mypurecloud.com',
      'mypurecloud.ie',
      'mypurecloud.com.au',
      'mypurecloud.jp',
      'mypurecloud.de',
      'usw2.pure.cloud',
      'cac1.pure.cloud',
      'apne2.pure.cloud',
      'euw2.pure.cloud',
      'aps1.pure.cloud',
      'use2.us-gov-pure.cloud',
      'sae1.pure.cloud',
      'mec1.pure.cloud',
      'apne3.pure.cloud',
      'euc2.pure.cloud',
      'mxc1.pure.cloud',
      'apse1.pure.cloud',
    ];
    const template = (await loadBuiltinProviders()).get('genesys-cloud');
    expect([...(template?.variables.region?.enum ?? [])].sort()).toEqual([...sdkRegionHosts].sort());
    for (const region of sdkRegionHosts) {
      const p = await builtin('genesys-cloud', { region });
      expect(p.endpoints.token).toBe(`https://login.${region}/oauth/token`);
      expect(p.endpoints.userinfo).toBe(`https://api.${region}/api/v2/users/me`);
    }
  });

  it('adds the org/provider/target/prompt directives only when set', async () => {
    const client = confidentialClient();
    const bare = buildAuthorizationUrl(await builtin('genesys-cloud', vars), {
      client,
      redirectUri: REDIRECT_URI,
      state: 'st',
      pkce: await createPkce(),
    });
    expect([...bare.searchParams.keys()].sort()).toEqual([
      'client_id',
      'code_challenge',
      'code_challenge_method',
      'redirect_uri',
      'response_type',
      'state',
    ]);
    const target = '6f7cbb7c-3f4d-4b5e-9c1a-0a1b2c3d4e5f';
    const pkce = await createPkce();
    const url = buildAuthorizationUrl(
      await builtin('genesys-cloud', { ...vars, org: 'acme', provider: 'okta', target, prompt: 'login' }),
      { client, redirectUri: REDIRECT_URI, state: 'st', scopes: ['conversations', 'users:readonly'], pkce },
    );
    expect(url.origin + url.pathname).toBe('https://login.mypurecloud.ie/oauth/authorize');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      response_type: 'code',
      client_id: client.client_id,
      redirect_uri: REDIRECT_URI,
      state: 'st',
      scope: 'conversations users:readonly',
      org: 'acme',
      provider: 'okta',
      target,
      prompt: 'login',
      code_challenge: pkce.challenge,
      code_challenge_method: 'S256',
    });
  });

  it('uses PKCE for every client, confidential ones too (RFC 9700 §2.1.1)', async () => {
    const p = await builtin('genesys-cloud', vars);
    const pkce = await createPkce();
    const pub = buildAuthorizationUrl(p, {
      client: publicClient(),
      redirectUri: REDIRECT_URI,
      state: 's',
      pkce,
    });
    expect(pub.searchParams.get('code_challenge')).toBe(pkce.challenge);
    expect(pub.searchParams.get('code_challenge_method')).toBe('S256');
    const conf = buildAuthorizationUrl(p, {
      client: confidentialClient(),
      redirectUri: REDIRECT_URI,
      state: 's',
      pkce,
    });
    expect(conf.searchParams.get('code_challenge')).toBe(pkce.challenge);
    expect(usesPkce(p, confidentialClient())).toBe(true);
  });

  it('sends no PKCE for an integration that opts out (pkce: false)', async () => {
    const deployment = loadDeployment(
      { integrations: { g: { provider: 'genesys-cloud', vars, pkce: false, secretId: 'x' } } },
      { builtins: await loadBuiltinProviders() },
    );
    const p = deployment.integrations.get('g')?.provider;
    expect(p && usesPkce(p, confidentialClient())).toBe(false);
    expect(p && usesPkce(p, publicClient())).toBe(false);
  });

  it('redeems a code with Basic auth, or with client_id and code_verifier for a PKCE client', async () => {
    const p = await builtin('genesys-cloud', vars);
    const client = confidentialClient();
    const code = tok('code');
    const req = buildTokenRequest(
      p,
      { grant: 'authorization_code', code, redirectUri: REDIRECT_URI },
      client,
    );
    expect(req.method).toBe('POST');
    expect(req.url).toBe('https://login.mypurecloud.ie/oauth/token');
    expect(req.headers).toMatchObject({
      authorization: basicFor(client),
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(formOf(req)).toEqual({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI });

    const pub = publicClient();
    const verifier = tok('verifier');
    const pkceReq = buildTokenRequest(
      p,
      { grant: 'authorization_code', code, redirectUri: REDIRECT_URI, codeVerifier: verifier },
      pub,
    );
    expect(pkceReq.headers.authorization).toBeUndefined();
    expect(formOf(pkceReq)).toEqual({
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT_URI,
      code_verifier: verifier,
      client_id: pub.client_id,
    });
  });

  it('sends client_credentials, refresh_token and saml2-bearer requests as Genesys expects', async () => {
    const p = await builtin('genesys-cloud', vars);
    const client = confidentialClient();
    const cc = buildTokenRequest(p, { grant: 'client_credentials' }, client);
    expect(cc.headers.authorization).toBe(basicFor(client));
    expect(formOf(cc)).toEqual({ grant_type: 'client_credentials' });

    const refreshToken = tok('rt');
    const rt = buildTokenRequest(p, { grant: 'refresh_token', refreshToken }, client);
    expect(rt.headers.authorization).toBe(basicFor(client));
    expect(formOf(rt)).toEqual({ grant_type: 'refresh_token', refresh_token: refreshToken });

    const samlResponse = Buffer.from(`<samlp:Response ID="${tok('id')}"/>`).toString('base64');
    // The IdP may post the SAMLResponse with line breaks; Genesys wants it as one base64 string.
    const wrapped = samlResponse.replace(/(.{20})/g, '$1\r\n');
    const sb = buildTokenRequest(p, { grant: 'saml2_bearer', samlResponse: wrapped }, client);
    expect(sb.url).toBe('https://login.mypurecloud.ie/oauth/token');
    expect(sb.headers.authorization).toBe(basicFor(client));
    expect(formOf(sb)).toEqual({
      grant_type: 'urn:ietf:params:oauth:grant-type:saml2-bearer',
      assertion: samlResponse,
      orgName: 'acme',
    });
  });

  it('maps code and saml2-bearer answers', async () => {
    const p = await builtin('genesys-cloud', vars);
    const at = tok('at');
    const rt = tok('rt');
    const code = processTokenResponse(
      p,
      reply({ access_token: at, token_type: 'bearer', expires_in: 86399, refresh_token: rt }),
      NOW,
    );
    expect(code).toMatchObject({
      accessToken: at,
      tokenType: 'Bearer',
      expiresAt: NOW + 86399,
      refreshToken: rt,
    });
    expect(code.refreshExpiresAt).toBeUndefined();
    const saml = processTokenResponse(
      p,
      reply({ access_token: at, token_type: 'bearer', expires_in: 3599 }),
      NOW,
    );
    expect(saml).toMatchObject({ expiresAt: NOW + 3599, refreshToken: undefined, subject: undefined });
  });

  it('uses the token as Bearer, revokes with DELETE /api/v2/tokens/me and asks /users/me for the id', async () => {
    const p = await builtin('genesys-cloud', vars);
    const tokens = { accessToken: tok('at'), tokenType: 'Bearer', issuedAt: NOW };
    expect(authorizationFor(p, tokens)).toEqual({
      header: 'Authorization',
      value: `Bearer ${tokens.accessToken}`,
    });
    expect(buildRevokeRequest(p, tokens, confidentialClient())).toEqual({
      method: 'DELETE',
      url: 'https://api.mypurecloud.ie/api/v2/tokens/me',
      headers: { accept: 'application/json', authorization: `Bearer ${tokens.accessToken}` },
    });
    expect(buildUserinfoRequest(p, tokens)).toMatchObject({
      method: 'GET',
      url: 'https://api.mypurecloud.ie/api/v2/users/me',
      headers: { authorization: `Bearer ${tokens.accessToken}` },
    });
    expect(p.template.endpoints.userinfo?.subject).toBe('id');
  });

  it('vends the API base of the region: https://api.<region>/api/v2', async () => {
    expect((await builtin('genesys-cloud')).apiBaseUrl).toBe('https://api.mypurecloud.com/api/v2');
    expect((await builtin('genesys-cloud', vars)).apiBaseUrl).toBe('https://api.mypurecloud.ie/api/v2');
    expect((await builtin('genesys-cloud', { region: 'mxc1.pure.cloud' })).apiBaseUrl).toBe(
      'https://api.mxc1.pure.cloud/api/v2',
    );
  });
});
