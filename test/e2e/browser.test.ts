/**
 * The connect flow in a real browser (Debian's headless Chromium through playwright-core). A frontend on its own
 * origin runs the code of docs/frontend-connect.md: its app page asks /connect (CORS preflight and all), the
 * browser goes to the vendor, which logs the user in without a form, comes back through the callback and lands
 * on the frontend's return page with a one-time claim code, which the page claims with the user's JWT.
 *
 * Two browser contexts are two people: a sign-in link one of them started and sent to the other never attaches
 * the other's vendor account to the sender (security checklist 3 and 50).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeJwt } from 'jose';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium } from '../support/chromium.js';
import { OIDC, type Stack, startStack } from './support/stack.js';

/** The app page: signed-in users keep their JWT (here: sessionStorage); `startConnect` is the documented call. */
const APP_PAGE = `<!doctype html><title>agent desktop</title><p>frontend</p>
<script>
window.startConnect = async (integration) => {
  const api = sessionStorage.getItem('api');
  const r = await fetch(api + '/connect/' + encodeURIComponent(integration), {
    method: 'POST',
    headers: { authorization: 'Bearer ' + sessionStorage.getItem('jwt'), 'content-type': 'application/json' },
    body: JSON.stringify({ return_to: location.origin + '/done' }),
  });
  return { status: r.status, body: await r.json() };
};
</script>`;

/** The return page of docs/frontend-connect.md: take the code off the URL, claim it with the user's JWT. */
const DONE_PAGE = `<!doctype html><title>connecting</title><p>connecting</p>
<script type="module">
const params = new URLSearchParams(location.search);
const claim = params.get('claim');
const integration = params.get('integration');
history.replaceState(null, '', location.pathname);
const api = sessionStorage.getItem('api');
const jwt = sessionStorage.getItem('jwt');
if (!claim || !jwt) {
  document.body.dataset.claim = 'none';
} else {
  const r = await fetch(api + '/connect/' + encodeURIComponent(integration) + '/claim', {
    method: 'POST',
    headers: { authorization: 'Bearer ' + jwt, 'content-type': 'application/json' },
    body: JSON.stringify({ claim }),
  });
  document.body.dataset.error = r.ok ? '' : (await r.json()).error;
  document.body.dataset.claim = String(r.status);
}
</script>`;

let frontend: Server;
let frontendUrl: string;
let stack: Stack;
let browser: Browser;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  frontend = createServer((req, res) => {
    const done = new URL(req.url ?? '/', 'http://x').pathname === '/done';
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'referrer-policy': 'no-referrer' });
    res.end(done ? DONE_PAGE : APP_PAGE);
  });
  await new Promise<void>((resolve) => frontend.listen(0, '127.0.0.1', () => resolve()));
  frontendUrl = `http://127.0.0.1:${(frontend.address() as AddressInfo).port}`;
  stack = await startStack({ returnUrls: [`${frontendUrl}/`], corsOrigins: [frontendUrl] });
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  for (const context of contexts) await context.close();
  await browser?.close();
  await stack?.close();
  await new Promise<void>((resolve) => (frontend ? frontend.close(() => resolve()) : resolve()));
});

/**
 * One person's browser: signed in to the frontend as `appUser`; at the vendor, the person signs in as
 * `vendorUser` (the test vendor logs in whoever its `x-harness-account` header names).
 */
async function person(appUser: string, vendorUser: string): Promise<Page> {
  const context = await browser.newContext();
  contexts.push(context);
  await context.route(`${stack.vendor.issuer}/**`, (route) =>
    route.continue({ headers: { ...route.request().headers(), 'x-harness-account': vendorUser } }),
  );
  const page = await context.newPage();
  await page.goto(`${frontendUrl}/app`);
  const jwt = await stack.token(appUser);
  await page.evaluate(
    ({ api, jwt }) => {
      sessionStorage.setItem('api', api);
      sessionStorage.setItem('jwt', jwt);
    },
    { api: stack.url, jwt },
  );
  return page;
}

async function startConnect(page: Page): Promise<string> {
  const started = await page.evaluate(
    (integration) =>
      (
        window as unknown as {
          startConnect(i: string): Promise<{ status: number; body: Record<string, string> }>;
        }
      ).startConnect(integration),
    OIDC,
  );
  expect(started.status).toBe(200);
  return String(started.body.authorize_url);
}

/** Follows `authorizeUrl` in `page` to the frontend's return page and waits for its claim. */
async function signInAndClaim(page: Page, authorizeUrl: string): Promise<{ status: string; error: string }> {
  await page.goto(authorizeUrl);
  await page.waitForURL((url) => url.origin === frontendUrl && url.pathname === '/done', { timeout: 15_000 });
  await page.waitForFunction(() => document.body?.dataset.claim !== undefined, undefined, {
    timeout: 15_000,
  });
  return page.evaluate(() => ({
    status: String(document.body.dataset.claim),
    error: String(document.body.dataset.error ?? ''),
  }));
}

async function vend(appUser: string) {
  return stack.call('GET', `/vend/${OIDC}`, { token: await stack.token(appUser) });
}

it('connects in a browser: the return page claims with the user JWT, then /vend gives that user the token', async () => {
  const page = await person('alice', 'alice');
  const authorizeUrl = await startConnect(page);
  const before = stack.vendor.tokenRequests('authorization_code');

  expect(await signInAndClaim(page, authorizeUrl)).toEqual({ status: '200', error: '' });
  // The claim code left the address bar as soon as the page read it.
  expect(new URL(page.url()).search).toBe('');
  expect(stack.vendor.tokenRequests('authorization_code') - before).toBe(1);

  const vended = await vend('alice');
  expect(vended.status).toBe(200);
  const me = await fetch(stack.vendor.userinfoEndpoint, {
    headers: { authorization: `Bearer ${vended.json?.access_token}` },
  });
  expect(((await me.json()) as { sub: string }).sub).toBe('alice');
});

it('checklist 3 and 50: a start link finished in another person’s browser never attaches their vendor account to the sender', async () => {
  // Mallory starts a connect in her browser and sends the authorize link to Victim.
  const mallory = await person('mallory', 'mallory');
  const link = await startConnect(mallory);
  const revocations = stack.spy.count('/token/revocation');

  // Victim opens it in his own browser, signs in at the vendor as himself, and lands on the app's return page,
  // where his own app session (his JWT) claims: refused, the tokens revoked at the vendor.
  const victim = await person('victim', 'victim');
  expect(await signInAndClaim(victim, link)).toEqual({ status: '403', error: 'access_denied' });
  expect(stack.spy.count('/token/revocation') - revocations).toBe(1);
  const issued = stack.spy.requests.findLast((r) => r.form.get('grant_type') === 'authorization_code');
  const answer = JSON.parse(String(issued?.response)) as { access_token: string; id_token: string };
  // It really was Victim's vendor account that signed in.
  expect(decodeJwt(answer.id_token).sub).toBe('victim');
  const victimAccessToken = answer.access_token;
  const me = await fetch(stack.vendor.userinfoEndpoint, {
    headers: { authorization: `Bearer ${victimAccessToken}` },
  });
  expect(me.status).toBe(401);

  // Mallory has no connection (and could not claim now even with the code); neither has Victim.
  const malloryVend = await vend('mallory');
  expect(malloryVend.status).toBe(404);
  expect(malloryVend.text).not.toContain(victimAccessToken);
  expect((await vend('victim')).status).toBe(404);
});

it('checklist 3: a victim who is not signed in to the app leaves nothing claimable for the sender', async () => {
  const mallory = await person('mallory2', 'mallory2');
  const link = await startConnect(mallory);
  const context = await browser.newContext();
  contexts.push(context);
  await context.route(`${stack.vendor.issuer}/**`, (route) =>
    route.continue({ headers: { ...route.request().headers(), 'x-harness-account': 'victim2' } }),
  );
  const stranger = await context.newPage();
  expect(await signInAndClaim(stranger, link)).toEqual({ status: 'none', error: '' });
  // The code stayed in Victim's browser (and left its address bar); Mallory's flow holds nothing she can use.
  expect(new URL(stranger.url()).search).toBe('');
  expect((await vend('mallory2')).status).toBe(404);
});
