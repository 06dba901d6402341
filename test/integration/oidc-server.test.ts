/** The OAuth server harness itself: start time, options, counters and shutdown. */
import { createConnection } from 'node:net';
import { loadProviderTemplate } from '../../functions/core/provider/load.js';
import { startOidcServer, TEST_CLIENT } from '../support/oidc-server.js';

const basic = `Basic ${btoa(`${TEST_CLIENT.client_id}:${TEST_CLIENT.client_secret}`)}`;

function post(endpoint: string, params: Record<string, string>, authorization = basic) {
  return fetch(endpoint, {
    method: 'POST',
    headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(params),
  });
}

describe('startOidcServer', () => {
  it('starts well under a second, honours TTLs and counts token requests by grant type', async () => {
    await startOidcServer().then((s) => s.close()); // the per-process signing key is generated once
    const started = performance.now();
    const server = await startOidcServer({ accessTokenTtl: 42 });
    try {
      expect(performance.now() - started).toBeLessThan(500);
      const ok = await post(server.tokenEndpoint, { grant_type: 'client_credentials' });
      expect(await ok.json()).toMatchObject({ expires_in: 42, token_type: 'Bearer' });
      const refused = await post(server.tokenEndpoint, { grant_type: 'client_credentials' }, 'Basic eDp5');
      expect(refused.status).toBe(401);
      expect(server.tokenRequests('client_credentials')).toBe(2);
      expect(server.tokenRequests('refresh_token')).toBe(0);
      expect(server.tokenRequests()).toBe(2);
      server.resetCounts();
      expect(server.tokenRequests()).toBe(0);
    } finally {
      await server.close();
    }
  });

  it('keeps the refresh token when rotation is off', async () => {
    const server = await startOidcServer({ rotateRefreshTokens: false });
    try {
      const url = new URL(server.authorizationEndpoint);
      const verifier = 'v'.repeat(43);
      const challenge = Buffer.from(
        await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)),
      );
      url.search = new URLSearchParams({
        response_type: 'code',
        client_id: TEST_CLIENT.client_id,
        redirect_uri: TEST_CLIENT.redirect_uri,
        scope: 'openid',
        code_challenge: challenge.toString('base64url'),
        code_challenge_method: 'S256',
      }).toString();
      const code = (await server.authorize(url)).searchParams.get('code')!;
      const first = (await (
        await post(server.tokenEndpoint, {
          grant_type: 'authorization_code',
          code,
          redirect_uri: TEST_CLIENT.redirect_uri,
          code_verifier: verifier,
        })
      ).json()) as { refresh_token: string };
      for (let i = 0; i < 2; i++) {
        const again = await post(server.tokenEndpoint, {
          grant_type: 'refresh_token',
          refresh_token: first.refresh_token,
        });
        expect(await again.json()).toMatchObject({ refresh_token: first.refresh_token });
      }
    } finally {
      await server.close();
    }
  });

  it('gives a loadable template and frees its port on close', async () => {
    const server = await startOidcServer();
    const template = loadProviderTemplate(server.template({ refresh: { minIntervalSeconds: 5 } }));
    expect(template.endpoints.token).toBe(server.tokenEndpoint);
    expect(template.refresh).toMatchObject({ rotates: true, minIntervalSeconds: 5 });
    const port = Number(new URL(server.issuer).port);
    await server.close();
    const error = await new Promise<NodeJS.ErrnoException>((resolve) => {
      const socket = createConnection(port, '127.0.0.1');
      socket.on('error', resolve);
      socket.on('connect', () => socket.destroy());
    });
    expect(error.code).toBe('ECONNREFUSED');
  });
});
