/**
 * The connect flow in a real browser (Debian's headless Chromium through playwright-core): a frontend page on
 * its own origin asks /connect (CORS preflight and all), the browser goes to the vendor, which logs the user in
 * without a form, comes back through the callback and lands on the frontend with tokenvend=connected; then the
 * page vends the token.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';
import { OIDC, type Stack, startStack } from './support/stack.js';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

let frontend: Server;
let frontendUrl: string;
let stack: Stack;
let browser: BrowserContext;
let profile: string;

beforeAll(async () => {
  // The frontend app: any page will do, the test drives it through page.evaluate.
  frontend = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><title>agent desktop</title><p>frontend</p>');
  });
  await new Promise<void>((resolve) => frontend.listen(0, '127.0.0.1', () => resolve()));
  frontendUrl = `http://127.0.0.1:${(frontend.address() as AddressInfo).port}`;
  stack = await startStack({ returnUrls: [`${frontendUrl}/`], corsOrigins: [frontendUrl] });
  profile = mkdtempSync(join(tmpdir(), 'tokenvend-chromium-'));
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await stack?.close();
  await new Promise<void>((resolve) => (frontend ? frontend.close(() => resolve()) : resolve()));
  if (profile) rmSync(profile, { recursive: true, force: true });
});

it('connects in a browser and lands on the return URL with tokenvend=connected; then /vend works', async () => {
  const page = await browser.newPage();
  await page.goto(`${frontendUrl}/app`);
  const token = await stack.token('alice');
  const api = stack.url;

  const authorizeUrl = await page.evaluate(
    async ({ api, token, returnTo, integration }) => {
      const r = await fetch(`${api}/connect/${integration}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ return_to: returnTo }),
      });
      return { status: r.status, body: (await r.json()) as { authorize_url?: string } };
    },
    { api, token, returnTo: `${frontendUrl}/done`, integration: OIDC },
  );
  expect(authorizeUrl.status).toBe(200);

  await page.goto(String(authorizeUrl.body.authorize_url));
  await page.waitForURL((url) => url.origin === frontendUrl && url.pathname === '/done', { timeout: 15_000 });
  const landed = new URL(page.url());
  expect(landed.searchParams.get('tokenvend')).toBe('connected');
  expect(landed.searchParams.get('integration')).toBe(OIDC);
  expect(landed.searchParams.has('code')).toBe(false);
  expect(stack.vendor.tokenRequests('authorization_code')).toBe(1);

  const vend = await page.evaluate(
    async ({ api, token, integration }) => {
      const r = await fetch(`${api}/vend/${integration}`, { headers: { authorization: `Bearer ${token}` } });
      return { status: r.status, body: (await r.json()) as { access_token?: string } };
    },
    { api, token, integration: OIDC },
  );
  expect(vend.status).toBe(200);
  const me = await fetch(stack.vendor.userinfoEndpoint, {
    headers: { authorization: `Bearer ${vend.body.access_token}` },
  });
  expect(((await me.json()) as { sub: string }).sub).toBe('alice');
  await page.close();
});
