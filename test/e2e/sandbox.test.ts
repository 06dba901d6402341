/**
 * The README's quick start, as a test: `npm start` without any config file serves the built-in sandbox config,
 * whose embedded sandbox vendor lets the whole cycle run on a fresh clone: local caller token -> connect ->
 * vendor sign-in -> callback -> claim -> vend -> service vend -> disconnect.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { type LocalServer, startLocalServer } from '../../functions/local/server.js';
import { browse } from './support/browse.js';

let server: LocalServer;
let cwd: string;

beforeAll(async () => {
  cwd = mkdtempSync(path.join(tmpdir(), 'tokenvend-sandbox-'));
  server = await startLocalServer({ port: 0, cwd, dataDir: path.join(cwd, '.tokenvend') });
});

afterAll(async () => {
  await server?.close();
  rmSync(cwd, { recursive: true, force: true });
});

describe('npm start without a config file (the sandbox)', () => {
  it('runs connect -> callback -> vend -> disconnect against the embedded sandbox vendor', async () => {
    expect(server.local.configSource).toBe('built-in sandbox config');
    const { token } = (await (
      await fetch(`${server.url}/local/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ sub: 'alice' }),
      })
    ).json()) as { token: string };
    const auth = { authorization: `Bearer ${token}` };

    const started = await fetch(`${server.url}/connect/sandbox`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ return_to: `${server.url}/local/connected` }),
    });
    expect(started.status).toBe(200);
    const { authorize_url } = (await started.json()) as { authorize_url: string };

    const callback = await browse(authorize_url, server.url);
    expect(callback.pathname).toBe('/oauth/sandbox/callback');
    const finished = await fetch(callback, { redirect: 'manual' });
    expect(finished.status).toBe(302);
    const landed = new URL(String(finished.headers.get('location')));
    expect(`${landed.origin}${landed.pathname}`).toBe(`${server.url}/local/connected`);
    expect(landed.searchParams.get('integration')).toBe('sandbox');
    // The quick start's return page shows the claim code and the request that claims it (escaped, no-store).
    const page = await fetch(landed);
    expect(page.status).toBe(200);
    expect(page.headers.get('cache-control')).toBe('no-store');
    const html = await page.text();
    expect(html).toContain(`<code id="claim">${landed.searchParams.get('claim')}</code>`);
    expect(html).toContain(`${server.url}/connect/sandbox/claim`);
    const injected = await fetch(`${server.url}/local/connected?claim=%3Cscript%3E&integration=x`);
    expect(await injected.text()).not.toContain('<script>');
    // The app claims the parked connection with the user's own JWT.
    const claimed = await fetch(`${server.url}/connect/sandbox/claim`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ claim: landed.searchParams.get('claim') }),
    });
    expect(claimed.status).toBe(200);

    const vended = await fetch(`${server.url}/vend/sandbox`, { headers: auth });
    expect(vended.status).toBe(200);
    const body = (await vended.json()) as {
      access_token: string;
      authorization: { header: string; value: string };
      api_base_url: string;
    };
    expect(body.authorization).toEqual({ header: 'Authorization', value: `Bearer ${body.access_token}` });
    // The vend says where the vendor's API is; the token works there.
    expect(body.api_base_url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const me = await fetch(`${body.api_base_url}/me`, {
      headers: { [body.authorization.header]: body.authorization.value },
    });
    expect(me.status).toBe(200);
    expect(((await me.json()) as { sub?: string }).sub).toBeTruthy();

    const service = await fetch(`${server.url}/service/vend/sandbox/demo`);
    expect(service.status).toBe(200);

    const deleted = await fetch(`${server.url}/connections/sandbox`, { method: 'DELETE', headers: auth });
    expect(deleted.status).toBe(204);
    const gone = await fetch(`${server.url}/vend/sandbox`, { headers: auth });
    expect(gone.status).toBe(404);
  });
});
