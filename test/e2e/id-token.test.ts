/**
 * OpenID Connect ID tokens at the callback (security checklist 11), against the oidc-provider test server: a
 * template that declares `endpoints.jwks` sends a nonce and has the code's ID token checked (signature by the
 * vendor's JWKS, iss, aud, exp, nonce) before anything is parked; a bad one is a clean 400 page naming the
 * failed check, the tokens are revoked and nothing is stored. A template without `jwks` never stores an ID token.
 *
 * Validly signed but wrong ID tokens come from the real servers: one for another client (bad aud), one from a
 * second server that shares the test signing key (bad iss), one for a nonce the flow did not send (bad nonce).
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { generateKeyPair, SignJWT } from 'jose';
import { type LocalServer, startLocalServer } from '../../functions/local/server.js';
import { type OidcServer, startOidcServer, TEST_CLIENT } from '../support/oidc-server.js';
import { startVendorSpy, type VendorSpy } from './support/vendor-spy.js';

const CLIENT = { client_id: 'tokenvend-idt', client_secret: `secret-${randomBytes(12).toString('hex')}` };
const OIDC = 'idt';
const PLAIN = 'plain';
const RETURN_TO = 'https://app.example.test/done';
const MINT_REDIRECT = 'http://127.0.0.1/mint';

let vendor: OidcServer;
/** A second server with the same signing key: its ID tokens verify against the vendor's JWKS but name another iss. */
let impostor: OidcServer;
let spy: VendorSpy;
let server: LocalServer;
let dir: string;

const client = {
  ...CLIENT,
  application_type: 'native' as const,
  redirect_uris: [
    `http://127.0.0.1/oauth/${OIDC}/callback`,
    `http://127.0.0.1/oauth/${PLAIN}/callback`,
    MINT_REDIRECT,
  ],
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  token_endpoint_auth_method: 'client_secret_basic' as const,
  scope: 'openid profile api',
};

beforeAll(async () => {
  vendor = await startOidcServer({ clients: [client] });
  impostor = await startOidcServer({ clients: [client] });
  spy = await startVendorSpy(vendor.issuer);
  dir = mkdtempSync(path.join(tmpdir(), 'tokenvend-idt-'));
  const configFile = path.join(dir, 'tokenvend.config.json');
  const endpoints = {
    token: `${spy.url}/token`,
    revoke: { url: `${spy.url}/token/revocation`, clientAuth: 'basic' },
  };
  writeFileSync(
    configFile,
    JSON.stringify({
      integrations: {
        [OIDC]: {
          provider: vendor.template({
            id: 'oidc-idt',
            endpoints: { ...endpoints, jwks: `${vendor.issuer}/jwks` },
          }),
          secret: CLIENT,
        },
        [PLAIN]: { provider: vendor.template({ id: 'plain', endpoints }), secret: CLIENT },
      },
      returnUrls: ['https://app.example.test/'],
    }),
  );
  server = await startLocalServer({
    port: 0,
    cwd: dir,
    dataDir: path.join(dir, 'data'),
    configFile,
    quiet: true,
  });
});

afterAll(async () => {
  await server?.close();
  await spy?.close();
  await vendor?.close();
  await impostor?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function call(method: string, target: string, token?: string, body?: unknown) {
  const response = await fetch(`${server.url}${target}`, {
    method,
    redirect: 'manual',
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body ? { 'content-type': 'application/json' } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

async function callerToken(sub: string): Promise<string> {
  return String((await call('POST', '/local/token', undefined, { sub })).json?.token);
}

async function start(integration: string, sub: string): Promise<{ authorizeUrl: URL; token: string }> {
  const token = await callerToken(sub);
  const answer = await call('POST', `/connect/${integration}`, token, { return_to: RETURN_TO });
  expect(answer.status).toBe(200);
  return { authorizeUrl: new URL(String(answer.json?.authorize_url)), token };
}

/** A real ID token from `issuer` for `clientId` and `nonce` (its own code flow, redeemed directly). */
async function mintIdToken(
  issuer: OidcServer,
  as: { client_id: string; client_secret: string; redirect_uri: string },
  nonce: string,
): Promise<string> {
  const verifier = randomBytes(32).toString('base64url');
  const url = new URL(issuer.authorizationEndpoint);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: as.client_id,
    redirect_uri: as.redirect_uri,
    scope: 'openid',
    state: 'mint',
    nonce,
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
  }).toString();
  const code = String((await issuer.authorize(url, 'alice')).searchParams.get('code'));
  const answer = await fetch(issuer.tokenEndpoint, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${as.client_id}:${as.client_secret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: as.redirect_uri,
      code_verifier: verifier,
    }),
  });
  const idToken = ((await answer.json()) as { id_token?: string }).id_token;
  if (!idToken) throw new Error(`no id_token from ${issuer.issuer}`);
  return idToken;
}

/** The vendor's answer to tokenvend's code redemption, replaced by one carrying `idToken` (absent: none). */
function answerRedemptionWith(idToken: string | undefined): string {
  const accessToken = `at-${randomBytes(12).toString('hex')}`;
  spy.inject(
    'authorization_code',
    {
      status: 200,
      body: JSON.stringify({
        access_token: accessToken,
        token_type: 'Bearer',
        expires_in: 300,
        refresh_token: `rt-${randomBytes(12).toString('hex')}`,
        scope: 'openid',
        ...(idToken ? { id_token: idToken } : {}),
      }),
    },
    1,
  );
  return accessToken;
}

/** The callback is a 400 page naming the failed check, nothing parked or stored, the tokens revoked. */
async function expectRefused(
  flow: { authorizeUrl: URL; token: string },
  check: string,
  signIn = flow.authorizeUrl,
): Promise<void> {
  const revocations = spy.count('/token/revocation');
  const callback = await vendor.authorize(signIn, 'alice');
  const answer = await call('GET', `${callback.pathname}${callback.search}`);
  spy.heal();
  expect(answer.status).toBe(400);
  expect(answer.headers.get('content-type')).toMatch(/^text\/html/);
  expect(answer.headers.get('location')).toBeNull();
  expect(answer.text).toContain('<p>invalid_request: ');
  expect(answer.text).toContain(`(ID token check: ${check})`);
  expect(answer.text).not.toMatch(/eyJ|nonce=|alice/);
  expect(spy.count('/token/revocation') - revocations).toBe(1);
  expect((await call('GET', `/vend/${OIDC}`, flow.token)).status).toBe(404);
}

describe('checklist 11: ID tokens of an OpenID Connect template are checked before anything is parked', () => {
  it('a good ID token: nonce sent and matched, the connection is claimed with the ID token stored', async () => {
    const flow = await start(OIDC, 'ok-user');
    const nonce = flow.authorizeUrl.searchParams.get('nonce');
    expect(nonce).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const callback = await vendor.authorize(flow.authorizeUrl, 'alice');
    const answer = await call('GET', `${callback.pathname}${callback.search}`);
    expect(answer.status).toBe(302);
    const claim = new URL(String(answer.headers.get('location'))).searchParams.get('claim');
    expect((await call('POST', `/connect/${OIDC}/claim`, flow.token, { claim })).status).toBe(200);
    const subject = (await server.local.app.callers.verify(`Bearer ${flow.token}`)).subject;
    const stored = await server.local.app.flows.store.get({ integration: OIDC, subject }, { secrets: 'all' });
    expect(stored?.tokens.idToken).toMatch(/^eyJ/);
    expect(stored?.tokens.subject).toBe('alice');
  });

  it('bad nonce: an ID token for another nonce (an injected code) is refused', async () => {
    const flow = await start(OIDC, 'nonce-user');
    const tampered = new URL(flow.authorizeUrl);
    tampered.searchParams.set('nonce', randomBytes(32).toString('base64url'));
    await expectRefused(flow, 'nonce', tampered);
  });

  it('bad aud: a validly signed ID token issued to another client is refused', async () => {
    const flow = await start(OIDC, 'aud-user');
    const nonce = String(flow.authorizeUrl.searchParams.get('nonce'));
    answerRedemptionWith(await mintIdToken(vendor, TEST_CLIENT, nonce));
    await expectRefused(flow, 'audience');
  });

  it('bad iss: a validly signed ID token from another issuer is refused', async () => {
    const flow = await start(OIDC, 'iss-user');
    const nonce = String(flow.authorizeUrl.searchParams.get('nonce'));
    answerRedemptionWith(await mintIdToken(impostor, { ...CLIENT, redirect_uri: MINT_REDIRECT }, nonce));
    await expectRefused(flow, 'issuer');
  });

  it('alg none, a foreign signature, or no ID token at all are refused', async () => {
    const claims = (nonce: string) => ({
      iss: vendor.issuer,
      sub: 'alice',
      aud: CLIENT.client_id,
      nonce,
      iat: Math.floor(Date.now() / 1000),
      exp: Math.floor(Date.now() / 1000) + 300,
    });
    const none = await start(OIDC, 'none-user');
    const noneNonce = String(none.authorizeUrl.searchParams.get('nonce'));
    const b64 = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url');
    answerRedemptionWith(`${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims(noneNonce))}.`);
    await expectRefused(none, 'algorithm');

    const forged = await start(OIDC, 'sig-user');
    const { privateKey } = await generateKeyPair('RS256');
    const signed = await new SignJWT(claims(String(forged.authorizeUrl.searchParams.get('nonce'))))
      .setProtectedHeader({ alg: 'RS256', kid: 'harness' })
      .sign(privateKey);
    answerRedemptionWith(signed);
    await expectRefused(forged, 'signature');

    const missing = await start(OIDC, 'missing-user');
    answerRedemptionWith(undefined);
    await expectRefused(missing, 'missing');
  });
});

describe('a template that does not declare OpenID Connect', () => {
  it('sends no nonce and never stores the ID token the vendor returns', async () => {
    const flow = await start(PLAIN, 'plain-user');
    expect(flow.authorizeUrl.searchParams.has('nonce')).toBe(false);
    const callback = await vendor.authorize(flow.authorizeUrl, 'alice');
    const answer = await call('GET', `${callback.pathname}${callback.search}`);
    expect(answer.status).toBe(302);
    const redeemed = spy.requests.findLast((r) => r.form.get('grant_type') === 'authorization_code');
    expect(JSON.parse(String(redeemed?.response)).id_token).toMatch(/^eyJ/);
    const claim = new URL(String(answer.headers.get('location'))).searchParams.get('claim');
    expect((await call('POST', `/connect/${PLAIN}/claim`, flow.token, { claim })).status).toBe(200);
    const subject = (await server.local.app.callers.verify(`Bearer ${flow.token}`)).subject;
    const stored = await server.local.app.flows.store.get(
      { integration: PLAIN, subject },
      { secrets: 'all' },
    );
    expect(stored?.tokens.accessToken).toBeTruthy();
    expect(stored?.tokens.idToken).toBeUndefined();
  });
});
