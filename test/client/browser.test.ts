/**
 * `tokenvend/browser` in headless Chromium (Debian's chromium through playwright-core) against the local runtime
 * (`startLocalServer`, what `npm start` runs): a frontend on its own origin loads the dependency-free module,
 * vends (typed `not_connected` / `needs_reauth` results with the connect hint, a cache until the margin),
 * connects through the claim flow in a popup and by redirect, and calls the vendor with the token applied.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { build } from 'esbuild';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium } from '../support/chromium.js';
import { type Harness, startHarness } from './support/harness.js';

let h: Harness;
let frontend: Server;
let app: string;
let bundle: string;
let browser: Browser;
const contexts: BrowserContext[] = [];

/** Both pages create the helper the documented way; the user's JWT lives in sessionStorage. */
const setup = (api: string) => `
import { createTokenVendBrowser } from '/tokenvend-browser.js';
window.apiCalls = 0;
window.tv = createTokenVendBrowser({
  baseUrl: ${JSON.stringify(api)},
  getToken: () => sessionStorage.getItem('jwt'),
  fetch: (input, init) => {
    if (String(input).startsWith(${JSON.stringify(api)})) window.apiCalls++;
    return fetch(input, init);
  },
});`;

const page = (title: string, script: string) =>
  `<!doctype html><title>${title}</title><body><script type="module">${script}</script></body>`;

beforeAll(async () => {
  frontend = createServer();
  await new Promise<void>((resolve) => frontend.listen(0, '127.0.0.1', () => resolve()));
  app = `http://127.0.0.1:${(frontend.address() as AddressInfo).port}`;
  h = await startHarness({
    returnUrls: [`${app}/`],
    corsOrigins: [app],
    integrations: (vendor) => ({
      users: { provider: vendor.template('scripted-users'), secret: vendor.client },
    }),
  });
  const built = await build({
    entryPoints: ['client/browser.ts'],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  });
  bundle = built.outputFiles[0]?.text ?? '';
  const api = h.server.url;
  frontend.on('request', (req, res) => {
    const path = new URL(req.url ?? '/', app).pathname;
    if (path === '/tokenvend-browser.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' });
      res.end(bundle);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'referrer-policy': 'no-referrer' });
    res.end(
      path === '/done'
        ? page(
            'connected',
            `${setup(api)}\nconst r = await window.tv.completeConnect();\ndocument.body.dataset.result = JSON.stringify(r ?? null);`,
          )
        : page('app', `${setup(api)}\ndocument.body.dataset.ready = '1';`),
    );
  });
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  for (const context of contexts) await context.close();
  await browser?.close();
  await h?.close();
  frontend?.closeAllConnections();
  await new Promise<void>((resolve) => (frontend ? frontend.close(() => resolve()) : resolve()));
});

/** A person signed in to the app as `sub`. */
async function signedIn(sub: string): Promise<Page> {
  const context = await browser.newContext();
  contexts.push(context);
  const p = await context.newPage();
  await p.goto(`${app}/app`);
  await p.waitForSelector('body[data-ready="1"]', { state: 'attached' });
  const jwt = await h.userToken(sub);
  await p.evaluate((token) => sessionStorage.setItem('jwt', token), jwt);
  return p;
}

type Tv = {
  vend(i: string): Promise<Record<string, unknown>>;
  connect(i: string, o: Record<string, unknown>): Promise<Record<string, unknown>>;
  vendorFetch(i: string, url: string): Promise<Response>;
};
const apiCalls = (p: Page) => p.evaluate(() => (window as unknown as { apiCalls: number }).apiCalls);

test('the module is one ES module without imports', () => {
  expect(bundle).toMatch(/export \{/);
  expect(bundle).not.toMatch(/^\s*import[\s{]/m);
  expect(bundle).not.toMatch(/require\(|node:/);
});

test('popup connect: not_connected with the connect hint, then the claim flow, then a cached token', async () => {
  const p = await signedIn('alice');
  expect(await p.evaluate(() => (window as unknown as { tv: Tv }).tv.vend('users'))).toEqual({
    status: 'not_connected',
    integration: 'users',
    message: expect.stringMatching(/^not_connected \(users\): /),
    connect: { method: 'POST', path: '/connect/users' },
  });
  const popup = p.waitForEvent('popup');
  const connected = await p.evaluate(() =>
    (window as unknown as { tv: Tv }).tv.connect('users', { returnTo: `${location.origin}/done` }),
  );
  expect(connected).toEqual({ status: 'connected', integration: 'users' });
  const loginWindow = await popup;
  expect(loginWindow.isClosed()).toBe(true);

  const vended = (await p.evaluate(() => (window as unknown as { tv: Tv }).tv.vend('users'))) as {
    status: string;
    token: { accessToken: string; authorization: unknown };
  };
  expect(vended.status).toBe('ok');
  expect(vended.token.authorization).toEqual({
    header: 'Authorization',
    value: `Bearer ${vended.token.accessToken}`,
  });
  const calls = await apiCalls(p);
  const again = (await p.evaluate(() => (window as unknown as { tv: Tv }).tv.vend('users'))) as typeof vended;
  expect(again.token.accessToken).toBe(vended.token.accessToken);
  expect(await apiCalls(p)).toBe(calls);

  // vendorFetch from the page: the token applied as the API says.
  const body = await p.evaluate(
    async (url) => (await (window as unknown as { tv: Tv }).tv.vendorFetch('users', url)).json(),
    `${h.vendor.url}/api/me`,
  );
  expect(body).toEqual({ path: '/api/me', via: 'bearer', token: vended.token.accessToken });
}, 30_000);

test('redirect connect: the return page takes the code off the URL and claims it', async () => {
  const p = await signedIn('carol');
  await p.evaluate(() => {
    void (window as unknown as { tv: Tv }).tv.connect('users', {
      returnTo: `${location.origin}/done`,
      mode: 'redirect',
    });
  });
  await p.waitForURL(`${app}/done`);
  const result = await p.waitForSelector('body[data-result]', { state: 'attached' });
  expect(JSON.parse((await result.getAttribute('data-result')) as string)).toEqual({
    status: 'connected',
    integration: 'users',
  });
  expect(p.url()).toBe(`${app}/done`);
  expect(
    ((await p.evaluate(() => (window as unknown as { tv: Tv }).tv.vend('users'))) as { status: string })
      .status,
  ).toBe('ok');
}, 30_000);

test('needs_reauth: past the margin the helper asks again; a dead grant is a typed result with the connect hint', async () => {
  h.vendor.ttl = 2;
  try {
    const p = await signedIn('bob');
    expect(
      await p.evaluate(() =>
        (window as unknown as { tv: Tv }).tv.connect('users', { returnTo: `${location.origin}/done` }),
      ),
    ).toMatchObject({
      status: 'connected',
    });
    const first = (await p.evaluate(() => (window as unknown as { tv: Tv }).tv.vend('users'))) as {
      status: string;
      token: { expiresIn: number };
    };
    expect(first.status).toBe('ok');
    expect(first.token.expiresIn).toBeLessThanOrEqual(2);
    h.vendor.failNext('refresh_token', { status: 400, body: { error: 'invalid_grant' } });
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(await p.evaluate(() => (window as unknown as { tv: Tv }).tv.vend('users'))).toEqual({
      status: 'needs_reauth',
      integration: 'users',
      reason: 'invalid_grant',
      message: expect.stringMatching(/^needs_reauth \(users\): /),
      connect: { method: 'POST', path: '/connect/users' },
    });
  } finally {
    h.vendor.ttl = 300;
  }
}, 30_000);

test('bad arguments and other errors are thrown, typed', async () => {
  const p = await signedIn('dave');
  expect(
    await p.evaluate(() =>
      (window as unknown as { tv: Tv }).tv.vend('Users!').catch((e: Error) => `${e.name}: ${e.message}`),
    ),
  ).toMatch(/^TypeError: tokenvend: integration must be an id/);
  expect(
    await p.evaluate(() =>
      (window as unknown as { tv: Tv }).tv
        .vend('nope')
        .catch((e: { name: string; code: string; status: number }) => [e.name, e.code, e.status]),
    ),
  ).toEqual(['NotFoundError', 'unknown_integration', 404]);
  await p.evaluate(() => sessionStorage.setItem('jwt', 'not-a-jwt'));
  expect(
    await p.evaluate(() =>
      (window as unknown as { tv: Tv }).tv
        .vend('users')
        .catch((e: { name: string; code: string }) => [e.name, e.code]),
    ),
  ).toEqual(['InvalidTokenError', 'invalid_token']);
  expect(
    await p.evaluate(() =>
      (window as unknown as { tv: Tv }).tv
        .connect('users', { returnTo: 'https://elsewhere.example/done' })
        .catch((e: Error) => e.message),
    ),
  ).toMatch(/popup needs a returnTo on this page's origin/);
});
