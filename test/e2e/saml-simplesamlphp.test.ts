/**
 * SAML against a real IdP: SimpleSAMLphp (Debian) on loopback, a person in headless Chromium, the local runtime,
 * and a vendor-shaped saml2-bearer token endpoint (oidc-provider through the recording spy).
 *
 * Set up as an admin would: tokenvend reads the IdP's metadata from its URL (entity ID, signing certificate, SSO
 * URL), and SimpleSAMLphp imports tokenvend's SP metadata (validated against the OASIS metadata schema first)
 * with its own parser. tokenvend signs its AuthnRequests (SimpleSAMLphp verifies them, `validate.authnrequest`
 * from the imported `AuthnRequestsSigned`), and one integration gets its assertions encrypted.
 *
 * - SP-initiated from a frontend: login -> IdP form -> ACS -> saml2-bearer -> frontend claims -> /vend.
 * - IdP-initiated: IdP -> ACS -> RelayState (allow-listed) -> /vend.
 * - Encrypted assertions: SimpleSAMLphp encrypts to the SP encryption certificate of the metadata.
 * - The response the browser posted cannot be used again (checklist 20, 21): 400 without a vendor call.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium } from '../support/chromium.js';
import { SAML2_BEARER } from '../support/oidc-server.js';
import { generateSigningKey, type TestSigningKey } from '../support/saml-idp.js';
import { type SimpleSamlPhp, startSimpleSamlPhp } from '../support/simplesamlphp.js';
import { type Stack, samlBearerProvider, startStack } from './support/stack.js';

const METADATA_SCHEMA = '/usr/share/simplesamlphp/schemas/saml-schema-metadata-2.0.xsd';

const SSP = 'ssp';
const SSP_ENCRYPTED = 'ssp-enc';
const spEntityId = (id: string) => `https://tokenvend.e2e.test/saml/${id}`;

/** The frontend's return page (docs/frontend-connect.md): claims the code with the signed-in user's JWT. */
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
const APP_PAGE = '<!doctype html><title>agent desktop</title><p>frontend</p>';

let idp: SimpleSamlPhp;
let frontend: Server;
let frontendUrl: string;
let stack: Stack;
let browser: Browser;
let signing: TestSigningKey;
let encryption: TestSigningKey;
let dir: string;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tokenvend-ssp-e2e-'));
  idp = await startSimpleSamlPhp({
    users: {
      alice: { password: 'alice-pass', attributes: { uid: ['alice'], mail: ['alice@corp.example'] } },
      bob: { password: 'bob-pass', attributes: { uid: ['bob'], mail: ['bob@corp.example'] } },
    },
  });
  frontend = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'referrer-policy': 'no-referrer' });
    res.end(path === '/done' ? DONE_PAGE : APP_PAGE);
  });
  await new Promise<void>((resolve) => frontend.listen(0, '127.0.0.1', () => resolve()));
  frontendUrl = `http://127.0.0.1:${(frontend.address() as AddressInfo).port}`;
  signing = generateSigningKey('tokenvend-sp-signing');
  encryption = generateSigningKey('tokenvend-sp-encryption');

  stack = await startStack({
    returnUrls: [`${frontendUrl}/`],
    corsOrigins: [frontendUrl],
    extraIntegrations: ({ spy, secret }) => {
      const integration = (id: string, keys: Record<string, string>) => ({
        provider: samlBearerProvider(`${id}-vendor`, spy.url),
        vars: { orgName: 'acme-e2e' },
        secret: { ...secret, ...keys },
        // Everything about the IdP comes from its metadata URL.
        saml: { idpMetadataUrl: idp.metadataUrl, spEntityId: spEntityId(id) },
      });
      return {
        [SSP]: integration(SSP, {
          saml_signing_key: signing.privateKey,
          saml_signing_cert: signing.cert,
        }),
        [SSP_ENCRYPTED]: integration(SSP_ENCRYPTED, {
          saml_encryption_key: encryption.privateKey,
          saml_encryption_cert: encryption.cert,
        }),
      };
    },
  });

  // The IdP admin imports tokenvend's SP metadata (schema-valid first), and picks the NameID attribute.
  for (const [id, settings] of [
    [SSP, { 'simplesaml.nameidattribute': 'uid' }],
    [SSP_ENCRYPTED, { 'simplesaml.nameidattribute': 'uid', 'assertion.encryption': true }],
  ] as const) {
    const metadata = await stack.call('GET', `/saml/${id}/metadata`);
    expect(metadata.status).toBe(200);
    const file = join(dir, `${id}.xml`);
    writeFileSync(file, metadata.text);
    execFileSync('xmllint', ['--noout', '--nonet', '--schema', METADATA_SCHEMA, file], { stdio: 'pipe' });
    const imported = idp.importSp(metadata.text, settings);
    // What SimpleSAMLphp read from our metadata: the ACS, that we sign requests (it then verifies them), that
    // assertions must be signed, and our certificates.
    expect(imported).toMatchObject({
      entityid: spEntityId(id),
      AssertionConsumerService: [expect.objectContaining({ Location: `${stack.url}/saml/${id}/acs` })],
      'saml20.sign.assertion': true,
    });
    expect(imported['validate.authnrequest'] ?? false).toBe(id === SSP);
  }
  browser = await launchChromium();
}, 90_000);

afterAll(async () => {
  for (const context of contexts) await context.close();
  await browser?.close();
  await stack?.close();
  await new Promise<void>((resolve) => (frontend ? frontend.close(() => resolve()) : resolve()));
  await idp?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A person's browser, signed in to the frontend as `appUser` (its JWT in sessionStorage). */
async function person(appUser: string): Promise<{ page: Page; posted: string[] }> {
  const context = await browser.newContext();
  contexts.push(context);
  const page = await context.newPage();
  const posted: string[] = [];
  // Every SAMLResponse the browser posts to tokenvend's ACS, to replay it afterwards.
  page.on('request', (request) => {
    if (request.method() === 'POST' && new URL(request.url()).pathname.endsWith('/acs')) {
      const response = new URLSearchParams(request.postData() ?? '').get('SAMLResponse');
      if (response) posted.push(response);
    }
  });
  await page.goto(`${frontendUrl}/app`);
  const jwt = await stack.token(appUser);
  await page.evaluate(
    ({ api, jwt }) => {
      sessionStorage.setItem('api', api);
      sessionStorage.setItem('jwt', jwt);
    },
    { api: stack.url, jwt },
  );
  return { page, posted };
}

/** SimpleSAMLphp's own login form. */
async function signInAtIdp(page: Page, username: string, password: string): Promise<void> {
  await page.waitForSelector('input#username', { timeout: 15_000 });
  expect(page.url().startsWith(idp.url)).toBe(true);
  await page.fill('input#username', username);
  await page.fill('input#password', password);
  await page.click('button#submit_button');
}

async function failWithIdpLog<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw new Error(`${(error as Error).message}\n--- SimpleSAMLphp log ---\n${idp.log()}`, { cause: error });
  }
}

describe('SimpleSAMLphp, in a real browser', () => {
  it('SP-initiated from the frontend: login -> IdP form -> ACS -> saml2-bearer -> claim -> /vend', async () => {
    const { page, posted } = await person('alice');
    const tokenCalls = stack.vendor.tokenRequests(SAML2_BEARER);
    await failWithIdpLog(async () => {
      await page.goto(
        `${stack.url}/saml/${SSP}/login?return_to=${encodeURIComponent(`${frontendUrl}/done`)}`,
      );
      await signInAtIdp(page, 'alice', 'alice-pass');
      await page.waitForSelector('body[data-claim]', { timeout: 20_000 });
    });
    expect(await page.getAttribute('body', 'data-claim')).toBe('200');
    expect(new URL(page.url()).pathname).toBe('/done');
    expect(stack.vendor.tokenRequests(SAML2_BEARER) - tokenCalls).toBe(1);

    // SimpleSAMLphp answered our (signed) request: the signed assertion names it.
    const xml = Buffer.from(posted[0] ?? '', 'base64').toString();
    expect(xml).toMatch(/InResponseTo="_[0-9a-f]{40}"/);
    expect(xml).toContain(`Destination="${stack.url}/saml/${SSP}/acs"`);

    const vend = await stack.call('GET', `/vend/${SSP}`, { token: await stack.token('alice') });
    expect(vend.status).toBe(200);
    const me = await fetch(stack.vendor.userinfoEndpoint, {
      headers: { authorization: `Bearer ${vend.json?.access_token}` },
    });
    expect(((await me.json()) as { sub: string }).sub).toBe('alice');

    // checklist 20/21: the response the browser posted is single use; no vendor call for the replay.
    const replay = await stack.call('POST', `/saml/${SSP}/acs`, { form: { SAMLResponse: posted[0] ?? '' } });
    expect(replay.status).toBe(400);
    expect(replay.text).toContain('InResponseTo');
    expect(stack.vendor.tokenRequests(SAML2_BEARER) - tokenCalls).toBe(1);
  });

  it('IdP-initiated: IdP -> ACS -> allow-listed RelayState -> /vend', async () => {
    const { page } = await person('bob');
    const tokenCalls = stack.vendor.tokenRequests(SAML2_BEARER);
    await failWithIdpLog(async () => {
      await page.goto(idp.idpInitiatedUrl(spEntityId(SSP), `${frontendUrl}/landing`));
      await signInAtIdp(page, 'bob', 'bob-pass');
      await page.waitForURL(`${frontendUrl}/landing?**`, { timeout: 20_000 });
    });
    const landed = new URL(page.url());
    expect(landed.searchParams.get('tokenvend')).toBe('connected');
    expect(landed.searchParams.get('integration')).toBe(SSP);
    expect(stack.vendor.tokenRequests(SAML2_BEARER) - tokenCalls).toBe(1);
    const vend = await stack.call('GET', `/vend/${SSP}`, { token: await stack.token('bob') });
    expect(vend.status).toBe(200);
  });

  it('encrypted assertions: SimpleSAMLphp encrypts to the metadata certificate; tokenvend decrypts, checks, exchanges', async () => {
    const { page, posted } = await person('alice');
    const tokenCalls = stack.vendor.tokenRequests(SAML2_BEARER);
    await failWithIdpLog(async () => {
      await page.goto(`${stack.url}/saml/${SSP_ENCRYPTED}/login`);
      await signInAtIdp(page, 'alice', 'alice-pass');
      await page.waitForSelector('text=Signed in', { timeout: 20_000 });
    });
    const xml = Buffer.from(posted[0] ?? '', 'base64').toString();
    expect(xml).toContain('EncryptedAssertion');
    expect(xml).not.toContain('alice');
    expect(stack.vendor.tokenRequests(SAML2_BEARER) - tokenCalls).toBe(1);
    const vend = await stack.call('GET', `/vend/${SSP_ENCRYPTED}`, { token: await stack.token('alice') });
    expect(vend.status).toBe(200);
  });
});
