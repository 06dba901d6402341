/**
 * `integrations.<id>.discovery`: the provider's endpoints and issuer come from the vendor's OIDC discovery
 * document on first use. The template here names wrong endpoints on purpose: the flow only works when the
 * discovered ones are used.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { type LocalServer, startLocalServer } from '../../functions/local/server.js';
import { type OidcServer, startOidcServer } from '../support/oidc-server.js';

const CLIENT = { client_id: 'tokenvend-discovery', client_secret: `secret-${crypto.randomUUID()}` };

let vendor: OidcServer;
let server: LocalServer;
let dir: string;

beforeAll(async () => {
  vendor = await startOidcServer({
    clients: [
      {
        ...CLIENT,
        // Native clients may use any loopback port (RFC 8252 §7.3): the local server's port is random.
        application_type: 'native',
        redirect_uris: ['http://127.0.0.1/oauth/idp/callback'],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
  });
  dir = mkdtempSync(path.join(tmpdir(), 'tokenvend-discovery-'));
  const configFile = path.join(dir, 'tokenvend.config.json');
  const wrong = `${vendor.issuer}/not-here`;
  writeFileSync(
    configFile,
    JSON.stringify({
      integrations: {
        idp: {
          provider: vendor.template({ endpoints: { authorize: `${wrong}/auth`, token: `${wrong}/token` } }),
          discovery: vendor.discoveryEndpoint,
          secret: CLIENT,
        },
      },
      returnUrls: ['https://app.example.test/'],
    }),
  );
  server = await startLocalServer({ port: 0, cwd: dir, dataDir: path.join(dir, 'data'), configFile });
});

afterAll(async () => {
  await server?.close();
  await vendor?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('an integration with OIDC discovery', () => {
  it('connects and vends through the discovered endpoints', async () => {
    const { token } = (await (
      await fetch(`${server.url}/local/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ sub: 'alice' }),
      })
    ).json()) as { token: string };
    const auth = { authorization: `Bearer ${token}` };
    const started = await fetch(`${server.url}/connect/idp`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ return_to: 'https://app.example.test/done' }),
    });
    expect(started.status).toBe(200);
    const { authorize_url } = (await started.json()) as { authorize_url: string };
    expect(authorize_url.startsWith(`${vendor.authorizationEndpoint}?`)).toBe(true);

    const callback = await vendor.authorize(authorize_url);
    // The discovered issuer is checked against the RFC 9207 `iss` of the response.
    expect(callback.searchParams.get('iss')).toBe(vendor.issuer);
    const finished = await fetch(callback, { redirect: 'manual' });
    expect(finished.status).toBe(302);
    expect(vendor.tokenRequests('authorization_code')).toBe(1);
    const claim = new URL(String(finished.headers.get('location'))).searchParams.get('claim');
    const claimed = await fetch(`${server.url}/connect/idp/claim`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ claim }),
    });
    expect(claimed.status).toBe(200);

    const vended = await fetch(`${server.url}/vend/idp`, { headers: auth });
    expect(vended.status).toBe(200);
  });
});
