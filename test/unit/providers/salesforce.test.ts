import { MalformedResponseError, TemplateError } from '../../../functions/core/errors.js';
import { buildAuthorizationUrl, createPkce } from '../../../functions/core/oauth/authorize.js';
import {
  authorizationFor,
  buildRevokeRequest,
  buildUserinfoRequest,
} from '../../../functions/core/oauth/engine.js';
import { selectField } from '../../../functions/core/oauth/response-mapping.js';
import { buildTokenRequest } from '../../../functions/core/oauth/token-request.js';
import { processTokenResponse } from '../../../functions/core/oauth/token-response.js';
import { apiBaseUrlFor } from '../../../functions/core/provider/resolve.js';
import { builtin, confidentialClient, formOf, NOW, REDIRECT_URI, reply, tok } from './support.js';

/** A token answer shaped as Salesforce documents it: no `expires_in`, `instance_url` and the identity URL `id`. */
function salesforceAnswer(extra: Record<string, unknown> = {}) {
  return {
    access_token: `00D5g000004ABCD!${tok('at')}`,
    signature: tok('sig'),
    scope: 'api refresh_token',
    instance_url: 'https://acme.my.salesforce.com',
    id: 'https://login.salesforce.com/id/00D5g000004ABCD/0055g000003EFGH',
    token_type: 'Bearer',
    issued_at: '1900000000000',
    ...extra,
  };
}

describe('salesforce template', () => {
  it('logs in at login, test (sandbox) or a My Domain host, and nowhere else', async () => {
    expect((await builtin('salesforce')).endpoints).toMatchObject({
      authorize: 'https://login.salesforce.com/services/oauth2/authorize',
      token: 'https://login.salesforce.com/services/oauth2/token',
    });
    expect((await builtin('salesforce', { loginHost: 'test.salesforce.com' })).endpoints.token).toBe(
      'https://test.salesforce.com/services/oauth2/token',
    );
    expect((await builtin('salesforce', { loginHost: 'acme.my.salesforce.com' })).endpoints.revoke).toBe(
      'https://acme.my.salesforce.com/services/oauth2/revoke',
    );
    expect(
      (await builtin('salesforce', { loginHost: 'acme--uat.sandbox.my.salesforce.com' })).endpoints.userinfo,
    ).toBe('https://acme--uat.sandbox.my.salesforce.com/services/oauth2/userinfo');
    for (const loginHost of [
      'evil.example',
      'acme.my.salesforce.com.evil.example',
      'login.salesforce.com:8443',
    ]) {
      await expect(builtin('salesforce', { loginHost })).rejects.toThrow(TemplateError);
    }
  });

  it('asks for api and refresh_token with PKCE and sends the client credentials in the form body', async () => {
    const p = await builtin('salesforce', { loginHost: 'test.salesforce.com' });
    const client = confidentialClient();
    const pkce = await createPkce();
    const url = buildAuthorizationUrl(p, { client, redirectUri: REDIRECT_URI, state: 's', pkce });
    expect(url.searchParams.get('scope')).toBe('api refresh_token');
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    const code = tok('code');
    const ac = buildTokenRequest(
      p,
      { grant: 'authorization_code', code, redirectUri: REDIRECT_URI, codeVerifier: pkce.verifier },
      client,
    );
    expect(ac.headers.authorization).toBeUndefined();
    expect(formOf(ac)).toEqual({
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT_URI,
      code_verifier: pkce.verifier,
      client_id: client.client_id,
      client_secret: client.client_secret,
    });
    const refreshToken = tok('rt');
    expect(formOf(buildTokenRequest(p, { grant: 'refresh_token', refreshToken }, client))).toEqual({
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
      client_id: client.client_id,
      client_secret: client.client_secret,
    });
    expect(formOf(buildTokenRequest(p, { grant: 'client_credentials' }, client))).toEqual({
      grant_type: 'client_credentials',
      client_id: client.client_id,
      client_secret: client.client_secret,
    });
  });

  it('assumes the shortest session timeout when the answer names no lifetime, and reads a refresh answer without refresh_token as such', async () => {
    const p = await builtin('salesforce');
    const rt = tok('rt');
    const first = processTokenResponse(p, reply(salesforceAnswer({ refresh_token: rt })), NOW);
    expect(first).toMatchObject({ tokenType: 'Bearer', expiresAt: NOW + 900, refreshToken: rt });
    expect(first.subject).toBe('https://login.salesforce.com/id/00D5g000004ABCD/0055g000003EFGH');
    expect(first.scopes).toEqual(['api', 'refresh_token']);
    // Without refresh token rotation the answer carries no refresh_token; the lifecycle then keeps the stored one.
    const refreshed = processTokenResponse(p, reply(salesforceAnswer()), NOW + 800);
    expect(refreshed.refreshToken).toBeUndefined();
    expect(refreshed.expiresAt).toBe(NOW + 800 + 900);
  });

  it('revokes the refresh token with a form post and reads user_id from userinfo', async () => {
    const p = await builtin('salesforce', { loginHost: 'acme.my.salesforce.com' });
    const client = confidentialClient();
    const rt = tok('rt');
    const tokens = processTokenResponse(p, reply(salesforceAnswer({ refresh_token: rt })), NOW);
    const revoke = buildRevokeRequest(p, tokens, client);
    expect(revoke).toMatchObject({
      method: 'POST',
      url: 'https://acme.my.salesforce.com/services/oauth2/revoke',
    });
    expect(revoke?.headers.authorization).toBeUndefined();
    expect(formOf(revoke ?? {})).toMatchObject({ token: rt, token_type_hint: 'refresh_token' });
    expect(formOf(revoke ?? {})).not.toHaveProperty('client_secret');
    expect(buildUserinfoRequest(p, tokens).headers.authorization).toBe(`Bearer ${tokens.accessToken}`);
    expect(authorizationFor(p, tokens)).toEqual({
      header: 'Authorization',
      value: `Bearer ${tokens.accessToken}`,
    });
    const subject = p.template.endpoints.userinfo?.subject ?? '';
    expect(
      selectField({ sub: 'https://login.salesforce.com/id/00D/005', user_id: '0055g000003EFGH' }, subject),
    ).toBe('0055g000003EFGH');
  });

  it('keeps instance_url and the identity URL as metadata and builds the API base URL from instance_url', async () => {
    const p = await builtin('salesforce', { apiVersion: '64.0' });
    const tokens = processTokenResponse(p, reply(salesforceAnswer({ refresh_token: tok('rt') })), NOW);
    expect(tokens.metadata).toEqual({
      instance_url: 'https://acme.my.salesforce.com',
      identity_url: 'https://login.salesforce.com/id/00D5g000004ABCD/0055g000003EFGH',
    });
    expect(p.apiBaseUrl).toBeUndefined();
    expect(apiBaseUrlFor(p, tokens.metadata)).toBe('https://acme.my.salesforce.com/services/data/v64.0');
    expect(apiBaseUrlFor(await builtin('salesforce'), tokens.metadata)).toBe(
      'https://acme.my.salesforce.com/services/data/v62.0',
    );
    // Without instance_url (it is in every Salesforce answer) there is no base URL rather than a wrong one.
    expect(apiBaseUrlFor(p, {})).toBeUndefined();
    for (const instance_url of [
      'https://evil.example',
      'http://acme.my.salesforce.com',
      'https://acme.salesforce.com.evil.example',
    ]) {
      expect(() => processTokenResponse(p, reply(salesforceAnswer({ instance_url })), NOW)).toThrow(
        MalformedResponseError,
      );
    }
    await expect(builtin('salesforce', { apiVersion: '62' })).rejects.toThrow(TemplateError);
  });
});
