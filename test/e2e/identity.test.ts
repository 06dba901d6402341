/**
 * Caller identity through the local runtime: who a caller JWT makes you, and what it can never reach.
 * - The quick-start sandbox (no config file): a local-issuer JWT whose `sub` names the IAM-only service
 *   connection `demo` (`service:demo`, `client:demo`, `user:...` tricks) cannot list, vend, replace or delete it,
 *   nor reach another user; the IAM route keeps working.
 * - A config with two more trusted issuers: the same `sub` from another issuer is another user; an issuer mapped
 *   to the local issuer's namespace is the same user; a JWT with a `crit` header is a 401.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { importJWK, type JWK, type JWTPayload, SignJWT } from 'jose';
import { sandboxConfig } from '../../functions/local/local-config.js';
import { localKeyFileName } from '../../functions/local/local-issuer.js';
import { type SandboxVendor, startSandboxVendor } from '../../functions/local/sandbox-vendor.js';
import { type LocalServer, startLocalServer } from '../../functions/local/server.js';
import {
  claimsFor,
  type JwksServer,
  makeKey,
  signToken,
  startJwksServer,
  type TestKey,
} from '../integration/caller-auth/support.js';
import { freePort } from '../support/free-port.js';
import { browse } from './support/browse.js';

interface Answer {
  status: number;
  json: Record<string, unknown> | undefined;
}

async function call(
  server: LocalServer,
  method: string,
  route: string,
  token?: string,
  body?: unknown,
): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${server.url}${route}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    redirect: 'manual',
  });
  const text = await response.text();
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = undefined;
  }
  return { status: response.status, json };
}

async function localToken(server: LocalServer, sub: string): Promise<string> {
  const answer = await call(server, 'POST', '/local/token', undefined, { sub });
  if (answer.status !== 200) throw new Error(`no local token for ${sub}: ${answer.status}`);
  return String(answer.json?.token);
}

/**
 * Connect -> sandbox vendor sign-in -> callback (-> claim with the same JWT, when the callback hands the return
 * URL a claim code) for the caller of `token`; true when the connection is stored.
 */
async function connectSandbox(server: LocalServer, token: string): Promise<boolean> {
  const started = await call(server, 'POST', '/connect/sandbox', token, { return_to: `${server.url}/done` });
  if (started.status !== 200) return false;
  const callback = await browse(String(started.json?.authorize_url), server.url);
  const finished = await fetch(callback, { redirect: 'manual' });
  const location = finished.headers.get('location');
  if (finished.status !== 302 || !location) return false;
  const back = new URL(location);
  const claim = back.searchParams.get('claim');
  if (claim === null) return back.searchParams.get('tokenvend') === 'connected';
  const claimed = await call(server, 'POST', '/connect/sandbox/claim', token, { claim });
  return claimed.status === 200;
}

describe('the quick-start sandbox: service connections are out of users reach', () => {
  let server: LocalServer;
  let cwd: string;
  let serviceToken: unknown;
  let aliceToken: unknown;

  const serviceVend = () => call(server, 'GET', '/service/vend/sandbox/demo');

  beforeAll(async () => {
    cwd = mkdtempSync(path.join(tmpdir(), 'tokenvend-identity-'));
    server = await startLocalServer({
      port: 0,
      cwd,
      dataDir: path.join(cwd, '.tokenvend'),
      quiet: true,
      refreshIntervalMs: 0,
    });
    const service = await serviceVend();
    expect(service.status).toBe(200);
    serviceToken = service.json?.access_token;
    const alice = await localToken(server, 'alice');
    expect(await connectSandbox(server, alice)).toBe(true);
    aliceToken = (await call(server, 'GET', '/vend/sandbox', alice)).json?.access_token;
    expect(typeof aliceToken).toBe('string');
  });

  afterAll(async () => {
    await server?.close();
    rmSync(cwd, { recursive: true, force: true });
  });

  const serviceTricks = [
    'service:demo',
    'service%3Ademo',
    'client:demo',
    'user:local:service:demo',
    'service',
  ];

  it.each(serviceTricks)(
    'checklist 51: sub %j cannot list, vend or delete the service connection',
    async (sub) => {
      const token = await localToken(server, sub);
      const listed = await call(server, 'GET', '/connections', token);
      expect(listed.status).toBe(200);
      expect(listed.json?.connections).toEqual([]);
      const vended = await call(server, 'GET', '/vend/sandbox', token);
      expect(vended.status).toBe(404);
      expect(vended.json?.access_token).toBeUndefined();
      expect((await call(server, 'DELETE', '/connections/sandbox', token)).status).toBe(404);
      // The IAM route still serves the same, untouched service connection.
      const service = await serviceVend();
      expect(service.status).toBe(200);
      expect(service.json?.access_token).toBe(serviceToken);
    },
  );

  it('checklist 51: sub "service:demo" connecting gets its own user connection, never replaces the service one', async () => {
    const token = await localToken(server, 'service:demo');
    expect(await connectSandbox(server, token)).toBe(true);
    const own = await call(server, 'GET', '/vend/sandbox', token);
    expect(own.status).toBe(200);
    expect(own.json?.access_token).not.toBe(serviceToken);
    expect((await serviceVend()).json?.access_token).toBe(serviceToken);
    expect((await call(server, 'DELETE', '/connections/sandbox', token)).status).toBe(204);
    const service = await serviceVend();
    expect(service.status).toBe(200);
    expect(service.json?.access_token).toBe(serviceToken);
  });

  it.each(['user:local:alice', 'local:alice', 'user%3Alocal%3Aalice', 'user:local:alice:'])(
    'checklist 31: sub %j never reaches alice',
    async (sub) => {
      const token = await localToken(server, sub);
      expect((await call(server, 'GET', '/connections', token)).json?.connections).toEqual([]);
      expect((await call(server, 'GET', '/vend/sandbox', token)).status).toBe(404);
      expect((await call(server, 'DELETE', '/connections/sandbox', token)).status).toBe(404);
      const alice = await localToken(server, 'alice');
      const mine = await call(server, 'GET', '/vend/sandbox', alice);
      expect(mine.status).toBe(200);
      expect(mine.json?.access_token).toBe(aliceToken);
    },
  );

  it('connections are stored as user:local:<sub> and service:<name>, disjoint key spaces', async () => {
    const store = server.local.app.flows.store;
    expect((await store.listBySubject('user:local:alice')).map((c) => c.integration)).toEqual(['sandbox']);
    expect((await store.listBySubject('service:demo')).map((c) => c.integration)).toEqual(['sandbox']);
    expect(await store.listBySubject('alice')).toEqual([]);
  });
});

describe('several trusted issuers: subjects are (namespace, claim)', () => {
  let server: LocalServer;
  let vendor: SandboxVendor;
  let jwks: JwksServer;
  let keyB: TestKey;
  let keyC: TestKey;
  let cwd: string;
  let alice: string;
  let aliceToken: unknown;
  const issuerB = 'https://idp-b.identity.e2e.test/';
  const issuerC = 'https://idp-c.identity.e2e.test/';
  const audience = 'crm-app';

  beforeAll(async () => {
    cwd = mkdtempSync(path.join(tmpdir(), 'tokenvend-identity-'));
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    vendor = await startSandboxVendor({ redirectUri: `${base}/oauth/sandbox/callback` });
    [keyB, keyC] = await Promise.all([makeKey(), makeKey()]);
    jwks = await startJwksServer([keyB.jwk, keyC.jwk]);
    const configFile = path.join(cwd, 'tokenvend.config.json');
    writeFileSync(
      configFile,
      JSON.stringify({
        ...sandboxConfig(base, vendor),
        callers: [
          // Another company's IdP: its users are its own, whatever their sub.
          { issuer: issuerB, audience, jwksUri: jwks.jwksUri },
          // An IdP whose users are the local issuer's users: the explicit mapping.
          { issuer: issuerC, audience, jwksUri: jwks.jwksUri, namespace: 'local' },
        ],
      }),
    );
    server = await startLocalServer({
      port,
      cwd,
      configFile,
      dataDir: path.join(cwd, '.tokenvend'),
      quiet: true,
      refreshIntervalMs: 0,
    });
    alice = await localToken(server, 'alice');
    expect(await connectSandbox(server, alice)).toBe(true);
    aliceToken = (await call(server, 'GET', '/vend/sandbox', alice)).json?.access_token;
    expect(typeof aliceToken).toBe('string');
  });

  afterAll(async () => {
    await server?.close();
    await vendor?.close();
    await jwks?.close();
    rmSync(cwd, { recursive: true, force: true });
  });

  it('checklist 52: the same sub from a second trusted issuer is another user', async () => {
    const token = await signToken(keyB, claimsFor(issuerB, audience, { sub: 'alice' }));
    expect((await call(server, 'GET', '/connections', token)).json?.connections).toEqual([]);
    expect((await call(server, 'GET', '/vend/sandbox', token)).status).toBe(404);
    expect((await call(server, 'DELETE', '/connections/sandbox', token)).status).toBe(404);
    const mine = await call(server, 'GET', '/vend/sandbox', alice);
    expect(mine.status).toBe(200);
    expect(mine.json?.access_token).toBe(aliceToken);
  });

  it('an issuer mapped to the local namespace is the same user', async () => {
    const token = await signToken(keyC, claimsFor(issuerC, audience, { sub: 'alice' }));
    const vended = await call(server, 'GET', '/vend/sandbox', token);
    expect(vended.status).toBe(200);
    expect(vended.json?.access_token).toBe(aliceToken);
    const listed = await call(server, 'GET', '/connections', token);
    expect(listed.json?.connections).toEqual([expect.objectContaining({ integration: 'sandbox' })]);
  });

  it('checklist 55: a local-issuer JWT with a crit header is a 401 on every user route, never a 500', async () => {
    const jwk = JSON.parse(readFileSync(path.join(cwd, '.tokenvend', localKeyFileName), 'utf8')) as JWK;
    const now = Math.floor(Date.now() / 1000);
    const claims: JWTPayload = {
      iss: `${server.url}/local`,
      aud: 'tokenvend-local',
      sub: 'alice',
      iat: now,
      exp: now + 600,
    };
    const key = await importJWK(jwk, 'RS256');
    const sign = (crit?: string[]) =>
      new SignJWT(claims)
        .setProtectedHeader({
          alg: 'RS256',
          kid: jwk.kid as string,
          typ: 'JWT',
          ...(crit ? { crit, 'x-ext': true } : {}),
        })
        .sign(key, crit ? { crit: { 'x-ext': true } } : undefined);
    const control = await sign();
    expect((await call(server, 'GET', '/vend/sandbox', control)).status).toBe(200);
    const critical = await sign(['x-ext']);
    for (const [method, route, body] of [
      ['GET', '/vend/sandbox', undefined],
      ['GET', '/connections', undefined],
      ['DELETE', '/connections/sandbox', undefined],
      ['POST', '/connect/sandbox', { return_to: `${server.url}/done` }],
    ] as const) {
      const answer = await call(server, method, route, critical, body);
      expect({ route: `${method} ${route}`, status: answer.status, error: answer.json?.error }).toEqual({
        route: `${method} ${route}`,
        status: 401,
        error: 'invalid_token',
      });
    }
    expect((await call(server, 'GET', '/vend/sandbox', alice)).json?.access_token).toBe(aliceToken);
  });
});
