/**
 * The local console at `/`, walked in Debian's headless Chromium: sign in as a subject through the local issuer,
 * connect the sandbox (through the vendor redirect and back, claiming the flow), vend (masked token, header,
 * expiry, copy on click), watch the countdown, disconnect; a second subject sees none of the first one's
 * connections or events; an error shows as its error_description. Screenshots go to TOKENVEND_ARTEFACTS
 * (default artefacts/console, git-ignored).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { CONSOLE_CSP, type LocalServer, startLocalServer } from '../../functions/local/server.js';
import { launchChromium } from '../support/chromium.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const ARTEFACTS = path.resolve(process.env.TOKENVEND_ARTEFACTS ?? path.join(ROOT, 'artefacts'), 'console');

let cwd: string;
let server: LocalServer;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const problems: string[] = [];

beforeAll(async () => {
  cwd = mkdtempSync(path.join(tmpdir(), 'tokenvend-console-'));
  mkdirSync(ARTEFACTS, { recursive: true });
  server = await startLocalServer({ port: 0, cwd, quiet: true, refreshIntervalMs: 0 });
  browser = await launchChromium();
  context = await browser.newContext();
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
  page = await context.newPage();
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`${message.text()} (${message.location().url})`);
  });
  page.on('pageerror', (error) => problems.push(error.message));
}, 60_000);

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await server?.close();
  rmSync(cwd, { recursive: true, force: true });
});

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: path.join(ARTEFACTS, `${name}.png`), fullPage: true });
}

async function signIn(subject: string): Promise<void> {
  const field = page.getByLabel('Subject name');
  await field.fill(subject);
  await field.press('Enter'); // the keyboard submits the form
  await page.getByText(`Signed in as ${subject}.`).waitFor();
}

async function signOut(): Promise<void> {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByLabel('Subject name').waitFor();
}

describe('the local console', () => {
  it('is served at / with a CSP and no inline script', async () => {
    const response = await fetch(`${server.url}/`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-security-policy')).toBe(CONSOLE_CSP);
    expect(CONSOLE_CSP).not.toContain('unsafe-inline');
    const html = await response.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/\son[a-z]+=/);
  });

  it('signs in, connects the sandbox, vends, counts down, disconnects; a second subject sees nothing', async () => {
    await page.goto(`${server.url}/`);
    await shot('01-start');
    // Keyboard only: Tab reaches the labelled field, then the button, which Enter presses.
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('subject');
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.type('alice');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Sign in');
    await page.keyboard.press('Enter');
    await page.getByText('Signed in as alice.').waitFor();
    await signOut();
    await signIn('alice');
    await page.getByRole('cell', { name: 'sandbox', exact: true }).first().waitFor();
    await page.getByText('No connections yet.').waitFor();

    // Connect: the vendor redirect and back to the console, which claims the flow.
    await page.getByRole('button', { name: 'Connect sandbox' }).click();
    await page.getByText('Connected to sandbox.').waitFor({ timeout: 20_000 });
    expect(new URL(page.url()).search).toBe(''); // the claim code left the address bar
    const row = page.locator('#connections tr[data-integration="sandbox"]');
    await row.getByRole('cell', { name: 'connected', exact: true }).waitFor();
    await page.locator('#events li', { hasText: 'connected sandbox' }).waitFor();
    await shot('02-connected');

    // Vend: a masked token, its header and expiry; a click copies the whole value.
    await row.getByRole('button', { name: 'Vend a token for sandbox' }).click();
    await page.getByText('Token for sandbox vended.').waitFor();
    expect(await page.locator('#token-header').textContent()).toBe('Authorization');
    const masked = (await page.locator('#token-value').textContent()) ?? '';
    expect(masked).toContain('••••••••');
    await page.locator('#token-copy').click();
    await page.getByText('Token copied to the clipboard.').waitFor();
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    expect(copied).toMatch(/^Bearer \S{12,}$/);
    expect(masked).not.toContain(copied.slice('Bearer '.length));
    const { token } = (await (
      await fetch(`${server.url}/local/token`, { method: 'POST', body: JSON.stringify({ sub: 'alice' }) })
    ).json()) as { token: string };
    const vend = (await (
      await fetch(`${server.url}/vend/sandbox`, { headers: { authorization: `Bearer ${token}` } })
    ).json()) as { authorization: { value: string } };
    expect(vend.authorization.value).toBe(copied);

    // The countdown moves on its own.
    const countdown = row.locator('.countdown');
    const first = await countdown.textContent();
    expect(first).toMatch(/^[45]:\d\d$/);
    await page.waitForFunction(
      (before) => document.querySelector('#connections .countdown')?.textContent !== before,
      first,
      { timeout: 5_000 },
    );
    expect(await page.locator('#token-expiry').textContent()).toMatch(/^[45]:\d\d$/);
    await shot('03-vended');

    // A second subject sees none of alice's connections or events.
    await signOut();
    await signIn('bob');
    await page.getByText('No connections yet.').waitFor();
    expect(await page.locator('#connections tr').count()).toBe(0);
    expect(await page.locator('#events li').count()).toBe(0);
    expect(await page.locator('#audit tr').count()).toBe(0);
    expect(await page.locator('#token-section').isHidden()).toBe(true);
    await shot('04-second-subject');

    // Back as alice: disconnect.
    await signOut();
    await signIn('alice');
    await row.getByRole('button', { name: 'Disconnect sandbox' }).click();
    await page.getByText('Disconnected sandbox.').waitFor();
    await page.getByText('No connections yet.').waitFor();
    await page.locator('#events li', { hasText: 'disconnected sandbox' }).waitFor();
    // The audit panel: alice's own records, the disconnect newest.
    await page.locator('#audit tr', { hasText: 'disconnect' }).first().waitFor();
    const actions = await page.locator('#audit tr td:nth-child(2)').allTextContents();
    expect(actions[0]).toBe('disconnect');
    expect(actions).toEqual(expect.arrayContaining(['connect', 'callback', 'claim', 'vend']));
    await shot('05-disconnected');
    expect(problems).toEqual([]);
  }, 90_000);

  it('shows an error as its error_description', async () => {
    await page.goto(`${server.url}/?claim=not-a-real-code&integration=sandbox`);
    const alert = page.getByRole('alert');
    await alert.waitFor();
    const { error_description } = (await (
      await fetch(`${server.url}/connect/sandbox/claim`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${await page.evaluate(() => sessionStorage.getItem('tokenvend.jwt'))}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({ claim: 'not-a-real-code' }),
      })
    ).json()) as { error_description: string };
    expect(await alert.textContent()).toBe(error_description);
    await shot('06-error');
  }, 30_000);

  it('shows the scheduled refresh renewing the token', async () => {
    // 4-second sandbox tokens are due half-way through their life: a scheduler run then renews them.
    const short = await startLocalServer({
      port: 0,
      cwd,
      dataDir: path.join(cwd, 'short'),
      quiet: true,
      refreshIntervalMs: 0,
      sandboxAccessTokenTtl: 4,
    });
    const other = await context.newPage();
    try {
      await other.goto(`${short.url}/`);
      const field = other.getByLabel('Subject name');
      await field.fill('carol');
      await field.press('Enter');
      await other.getByRole('button', { name: 'Connect sandbox' }).click();
      await other.getByText('Connected to sandbox.').waitFor({ timeout: 20_000 });
      const countdown = other.locator('#connections tr[data-integration="sandbox"] .countdown');
      await countdown.waitFor();
      const before = await other.locator('#connections .countdown').getAttribute('data-expires-at');
      const renewed = other.locator('#events li', { hasText: 'token renewed sandbox' });
      for (let tick = 0; tick < 20 && (await renewed.count()) === 0; tick++) {
        await new Promise((resolve) => setTimeout(resolve, 500));
        await short.local.scheduler.tick();
      }
      await renewed.waitFor({ timeout: 5_000 });
      const after = await other.locator('#connections .countdown').getAttribute('data-expires-at');
      expect(Number(after)).toBeGreaterThan(Number(before));
      await other.screenshot({ path: path.join(ARTEFACTS, '07-scheduled-refresh.png'), fullPage: true });
    } finally {
      await other.close();
      await short.close();
    }
  }, 60_000);
});
