/**
 * The real handlers (the same middy chain as in AWS, wired by buildApp) against dynalite, a loopback vendor
 * and the local issuer; every answer is checked against docs/openapi.yaml: status documented for the route,
 * media type documented, documented required headers present and no undocumented Cache-Control /
 * WWW-Authenticate / Retry-After / Location, the JSON body valid against the documented schema and its
 * `error` code among the documented ones.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Context } from 'aws-lambda';
import dynalite from 'dynalite';
import { createCallerVerifier } from '../../../functions/adapters/caller-auth/index.js';
import { createLocalCipher } from '../../../functions/adapters/crypto/index.js';
import { ensureTable } from '../../../functions/adapters/dynamodb/index.js';
import { LocalSecretSource } from '../../../functions/adapters/secrets/index.js';
import { loadDeployment } from '../../../functions/core/config/deployment.js';
import type { HttpEvent, HttpResult } from '../../../functions/handlers/middleware/types.js';
import { FUNCTIONS, type RouteSpec } from '../../../functions/handlers/routes.js';
import type { App } from '../../../functions/handlers/runtime/app.js';
import { buildApp } from '../../../functions/handlers/runtime/build-app.js';
import { DEFAULT_MAX_BODY_BYTES } from '../../../functions/handlers/runtime/http-handler.js';
import { matchRoute } from '../../../functions/local/api-gateway-event.js';
import { HANDLER_FACTORIES } from '../../../functions/local/handlers.js';
import { createLocalIssuer, type LocalIssuer } from '../../../functions/local/local-issuer.js';
import { generateSigningKey } from '../../support/saml-idp.js';
import {
  errorCodes,
  header,
  isObject,
  type Json,
  loadSpec,
  operation,
  responses,
  schemaValidator,
} from './spec.js';

const spec = loadSpec();
const validatorFor = schemaValidator(spec);
const BASE = 'http://127.0.0.1:8787';
const RETURN_ORIGIN = 'https://app.example.com';
const REPORTING_ROLE = 'arn:aws:iam::111122223333:role/reporting';

let dynamo: Server;
let vendor: Server;
let client: DynamoDBClient;
let dir: string;
let issuer: LocalIssuer;
let downIssuer: LocalIssuer;
let revokeStatus = 200;
let revokeFailuresLeft = 0;
let revokeCalls = 0;
let app: App;
const documentedRoutes = new Set<string>();

/** A vendor that hands out throwaway tokens; the code decides the outcome. */
function vendorHandler(body: URLSearchParams, path: string): [number, Json] {
  if (path === '/revoke') {
    revokeCalls++;
    if (revokeFailuresLeft > 0) {
      revokeFailuresLeft--;
      return [503, {}];
    }
    return [revokeStatus, {}];
  }
  const grant = body.get('grant_type');
  const code = body.get('code');
  if (grant === 'refresh_token')
    return [400, { error: 'invalid_grant', error_description: 'refresh token revoked' }];
  if (grant === 'authorization_code' && code === 'dead') return [400, { error: 'invalid_grant' }];
  return [
    200,
    {
      access_token: `at-${randomBytes(8).toString('hex')}`,
      token_type: 'Bearer',
      expires_in: code === 'short' ? 0 : 3600, // 'short': already expired, so the vend must refresh
      ...(grant === 'authorization_code' ? { refresh_token: `rt-${randomBytes(8).toString('hex')}` } : {}),
      scope: 'read write',
    },
  ];
}

beforeAll(async () => {
  dynamo = (dynalite as (o: object) => Server)({ createTableMs: 0, updateTableMs: 0, deleteTableMs: 0 });
  await new Promise<void>((resolve) => dynamo.listen(0, '127.0.0.1', resolve));
  client = new DynamoDBClient({
    endpoint: `http://127.0.0.1:${(dynamo.address() as AddressInfo).port}`,
    region: 'eu-west-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  await ensureTable(client, 'tokenvend-api', { ttl: false });

  vendor = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      if (req.method === 'GET' && path === '/local/jwks.json') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(issuer.jwks));
        return;
      }
      const agent = /^\/finesse\/api\/User\/([^/]+)$/.exec(path)?.[1];
      if (req.method === 'GET' && agent) {
        // Finesse-shaped: the user's own Basic credentials, password `right-<name>`.
        const expected = `Basic ${Buffer.from(`${agent}:right-${agent}`).toString('base64')}`;
        res.writeHead(req.headers.authorization === expected ? 200 : 401).end();
        return;
      }
      if (path.startsWith('/api/')) {
        // The vendor's API behind the proxy: the proxied method and body, echoed.
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ method: req.method, body: Buffer.concat(chunks).toString() }));
        return;
      }
      if (req.method === 'GET') {
        res.writeHead(500).end();
        return;
      }
      const [status, body] = vendorHandler(new URLSearchParams(Buffer.concat(chunks).toString()), path);
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => vendor.listen(0, '127.0.0.1', resolve));
  const vendorUrl = `http://127.0.0.1:${(vendor.address() as AddressInfo).port}`;

  dir = await mkdtemp(join(tmpdir(), 'tokenvend-api-'));
  issuer = await createLocalIssuer({ dir: join(dir, 'up'), issuer: `${vendorUrl}/local` });
  downIssuer = await createLocalIssuer({ dir: join(dir, 'down'), issuer: `${vendorUrl}/down` });

  const idpKey = generateSigningKey('conformance-idp');
  const template = (id: string, grants: Json) => ({
    id,
    name: id,
    endpoints: {
      authorize: `${vendorUrl}/authorize`,
      token: `${vendorUrl}/token`,
      revoke: { url: `${vendorUrl}/revoke` },
    },
    grants,
  });
  const secret = { client_id: 'example-client', client_secret: 'example-secret-not-real' };
  const config = {
    publicBaseUrl: BASE,
    returnUrls: [RETURN_ORIGIN],
    corsOrigins: [RETURN_ORIGIN],
    callers: [issuer.callerConfig, downIssuer.callerConfig],
    integrations: {
      acme: {
        provider: {
          ...template('acme', { authorization_code: { pkce: {} }, refresh_token: {} }),
          api: { baseUrl: `${vendorUrl}/api` },
        },
        secret,
        onBehalfOf: { allowedPrincipals: [REPORTING_ROLE] },
        proxy: { allow: [{ methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'], pathPrefix: '/v1/' }] },
      },
      'acme-sso': {
        provider: template('acme-sso', { saml2_bearer: { assertionFormat: 'response-base64' } }),
        secret,
        saml: {
          idpCert: idpKey.cert,
          idpIssuer: 'https://idp.example.com',
          idpSsoUrl: 'https://idp.example.com/sso',
          spEntityId: `${BASE}/sp`,
        },
      },
      'acme-agents': {
        provider: {
          id: 'acme-agents',
          name: 'acme-agents',
          endpoints: {},
          grants: {
            user_credentials: {
              username: { pattern: '[a-z0-9]{1,32}' },
              verify: { url: `${vendorUrl}/finesse/api/User/\${username}` },
            },
          },
        },
        secret,
      },
      'acme-svc': {
        provider: template('acme-svc', { client_credentials: { refreshable: false } }),
        secret,
        serviceConnections: {
          reporting: { grant: 'client_credentials', allowedPrincipals: [REPORTING_ROLE] },
        },
      },
    },
  };
  const deployment = loadDeployment(config, { builtins: new Map(), local: true });
  app = buildApp({
    deployment,
    dynamo: { client, tableName: 'tokenvend-api' },
    cipher: createLocalCipher(randomBytes(32)),
    secrets: LocalSecretSource.fromIntegrations(config.integrations),
    callers: createCallerVerifier(
      { callers: deployment.config.callers },
      { allowInsecureLoopbackJwks: true, jwksPenaltySeconds: 1 },
    ),
    logger: { error: () => undefined, info: () => undefined },
    vendorTimeoutMs: 2_000,
  });
});

afterAll(async () => {
  client?.destroy();
  await Promise.all(
    [dynamo, vendor].map((s) => new Promise<void>((resolve) => (s ? s.close(() => resolve()) : resolve()))),
  );
  if (dir) await rm(dir, { recursive: true, force: true });
});

const built = new Map<string, (e: HttpEvent, c: Context) => Promise<HttpResult>>();

interface Call {
  headers?: Record<string, string>;
  body?: string;
  /** The IAM principal API Gateway's authorizer would report. */
  principal?: string;
}

/** Sends one request the way API Gateway would, and checks the answer against the document. */
async function call(
  method: string,
  target: string,
  options: Call = {},
): Promise<HttpResult & { json?: Json }> {
  const url = new URL(target, BASE);
  let found: { entry: string; route: RouteSpec; params: Record<string, string> } | undefined;
  for (const fn of FUNCTIONS) {
    for (const route of fn.routes) {
      const params = route.method === method ? matchRoute(route.path, url.pathname) : undefined;
      if (params) found = { entry: fn.entry, route, params };
    }
  }
  if (!found) throw new Error(`no route for ${method} ${url.pathname}`);
  const make = HANDLER_FACTORIES[found.entry];
  if (!make) throw new Error(`no handler for ${found.entry}`);
  let handler = built.get(found.entry);
  if (!handler) {
    handler = make(async () => app);
    built.set(found.entry, handler);
  }
  const event = {
    version: '2.0',
    routeKey: `${method} ${found.route.path}`,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers: Object.fromEntries(Object.entries(options.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
    pathParameters: Object.keys(found.params).length ? found.params : undefined,
    requestContext: {
      domainName: url.host,
      http: { method, path: url.pathname },
      ...(options.principal ? { authorizer: { iam: { userArn: options.principal } } } : {}),
    },
    body: options.body,
    isBase64Encoded: false,
  } as unknown as HttpEvent;
  const result = await handler(event, {} as Context);
  const json = conforms(method, found.route.path, result);
  documentedRoutes.add(`${method} ${found.route.path}`);
  return { ...result, ...(json ? { json } : {}) };
}

/** Fails the test unless the answer is one the document describes; returns the parsed JSON body. */
function conforms(method: string, path: string, result: HttpResult): Json | undefined {
  const where = `${method} ${path} -> ${result.statusCode}`;
  const op = operation(spec, method, path);
  const response = op && responses(spec, op).get(String(result.statusCode));
  if (!response) throw new Error(`${where}: status not documented`);
  const headers = result.headers ?? {};
  for (const name of [
    'cache-control',
    'www-authenticate',
    'retry-after',
    'location',
    'content-security-policy',
  ]) {
    if (name in headers && !header(spec, response, name)) throw new Error(`${where}: undocumented ${name}`);
  }
  expect({ where, cacheControl: headers['cache-control'] }).toEqual({ where, cacheControl: 'no-store' });
  for (const name of Object.keys((response.headers ?? {}) as Json)) {
    if (header(spec, response, name)?.required && !(name.toLowerCase() in headers)) {
      throw new Error(`${where}: ${name} missing`);
    }
  }
  const content = (response.content ?? {}) as Json;
  if (!result.body) {
    expect({ where, content: Object.keys(content) }).toEqual({ where, content: [] });
    return undefined;
  }
  const type = String(headers['content-type'] ?? '').split(';')[0] as string;
  const media = content[type];
  if (!isObject(media)) throw new Error(`${where}: ${type} not documented`);
  if (type !== 'application/json') {
    if (result.statusCode && result.statusCode >= 400) {
      const code = /<p>([a-z_]+): /.exec(result.body)?.[1];
      expect({ where, code, documented: errorCodes(spec, response).has(code ?? '') }).toEqual({
        where,
        code,
        documented: true,
      });
    }
    return undefined;
  }
  const body = JSON.parse(result.body) as Json;
  expect({ where, problems: validatorFor(media.schema)(body) }).toEqual({ where, problems: [] });
  if (typeof body.error === 'string') {
    expect({ where, error: body.error, documented: errorCodes(spec, response).has(body.error) }).toEqual({
      where,
      error: body.error,
      documented: true,
    });
  }
  return body;
}

async function token(sub: string, from: LocalIssuer = issuer): Promise<Record<string, string>> {
  return { authorization: `Bearer ${(await from.issueToken({ sub })).token}` };
}

const JSON_TYPE = { 'content-type': 'application/json' };

async function connect(
  auth: Record<string, string>,
  returnTo = `${RETURN_ORIGIN}/done`,
): Promise<{ state: string; authorizeUrl: URL }> {
  const answer = await call('POST', '/connect/acme', {
    headers: { ...auth, ...JSON_TYPE },
    body: JSON.stringify({ return_to: returnTo }),
  });
  expect(answer.statusCode).toBe(200);
  const authorizeUrl = new URL(answer.json?.authorize_url as string);
  return { state: authorizeUrl.searchParams.get('state') as string, authorizeUrl };
}

/** The claim code of a callback's redirect. */
function claimOf(answer: HttpResult): string {
  expect(answer.statusCode).toBe(302);
  return new URL(String(answer.headers?.location)).searchParams.get('claim') as string;
}

async function claim(auth: Record<string, string>, code: unknown, integration = 'acme') {
  return call('POST', `/connect/${integration}/claim`, {
    headers: { ...auth, ...JSON_TYPE },
    body: JSON.stringify({ claim: code }),
  });
}

/** connect -> callback with `code` -> claim: the caller's connection is stored. */
async function connectAndClaim(auth: Record<string, string>, code: string): Promise<void> {
  const { state } = await connect(auth);
  const callback = await call('GET', `/oauth/acme/callback?state=${state}&code=${code}`);
  expect((await claim(auth, claimOf(callback))).statusCode).toBe(200);
}

describe('the handlers answer as docs/openapi.yaml says', () => {
  it('health, and caller authentication on every user route', async () => {
    expect((await call('GET', '/health')).json).toEqual({ status: 'ok' });
    const missing = await call('GET', '/connections');
    expect(missing.statusCode).toBe(401);
    expect(missing.headers?.['www-authenticate']).toBe('Bearer realm="tokenvend"');
    const bad = await call('GET', '/vend/acme', { headers: { authorization: 'Bearer not.a.jwt' } });
    expect([bad.statusCode, bad.json?.error]).toEqual([401, 'invalid_token']);
    const keysDown = await call('DELETE', '/connections/acme', { headers: await token('alice', downIssuer) });
    expect([keysDown.statusCode, keysDown.json?.error]).toEqual([503, 'temporarily_unavailable']);
    expect(Number(keysDown.headers?.['retry-after'])).toBeGreaterThan(0);
  });

  it('connect: the happy path and every refusal', async () => {
    const alice = await token('alice');
    const { authorizeUrl } = await connect(alice, `${RETURN_ORIGIN}/done`);
    expect(authorizeUrl.searchParams.get('code_challenge_method')).toBe('S256');
    const cases: Array<[Call, string, number, string]> = [
      [
        { headers: { ...alice, 'content-type': 'text/plain' }, body: 'x' },
        '/connect/acme',
        415,
        'invalid_request',
      ],
      [
        { headers: { ...alice, ...JSON_TYPE }, body: JSON.stringify({ return_to: 'https://evil.example/' }) },
        '/connect/acme',
        400,
        'invalid_request',
      ],
      [{ headers: { ...alice, ...JSON_TYPE }, body: '{}' }, '/connect/acme', 400, 'invalid_request'],
      [{ headers: alice }, '/connect/nope', 404, 'unknown_integration'],
      [{ headers: alice }, '/connect/acme-svc', 400, 'unsupported_grant_type'],
      [
        { headers: { ...alice, ...JSON_TYPE }, body: 'x'.repeat(DEFAULT_MAX_BODY_BYTES + 1) },
        '/connect/acme',
        413,
        'invalid_request',
      ],
    ];
    for (const [options, path, status, error] of cases) {
      const answer = await call('POST', path, options);
      expect({ path, status: answer.statusCode, error: answer.json?.error }).toEqual({ path, status, error });
    }
    // At most 20 unfinished flows per subject: the 21st is 429 slow_down with Retry-After.
    const zed = await token('zed');
    for (let i = 0; i < 20; i++) await connect(zed);
    const capped = await call('POST', '/connect/acme', {
      headers: { ...zed, ...JSON_TYPE },
      body: JSON.stringify({ return_to: `${RETURN_ORIGIN}/done` }),
    });
    expect([capped.statusCode, capped.json?.error]).toEqual([429, 'slow_down']);
    // CORS only for the configured origin.
    const cors = await call('GET', '/health', { headers: { origin: RETURN_ORIGIN } });
    expect(cors.headers?.['access-control-allow-origin']).toBe(RETURN_ORIGIN);
    const foreign = await call('GET', '/health', { headers: { origin: 'https://evil.example' } });
    expect(foreign.headers?.['access-control-allow-origin']).toBeUndefined();
  });

  it('callback: HTML pages for refusals, a redirect with a claim code when finished', async () => {
    const bob = await token('bob');
    const denied = await connect(bob);
    const deniedAnswer = await call('GET', `/oauth/acme/callback?state=${denied.state}&error=access_denied`);
    expect([deniedAnswer.statusCode, deniedAnswer.body]).toEqual([
      400,
      expect.stringContaining('access_denied: '),
    ]);
    const replayed = await call('GET', `/oauth/acme/callback?state=${denied.state}&code=good`);
    expect([replayed.statusCode, replayed.body]).toEqual([400, expect.stringContaining('invalid_request: ')]);
    const dead = await connect(bob);
    const deadAnswer = await call('GET', `/oauth/acme/callback?state=${dead.state}&code=dead`);
    expect([deadAnswer.statusCode, deadAnswer.body]).toEqual([
      400,
      expect.stringContaining('invalid_grant: '),
    ]);
    expect((await call('GET', '/oauth/nope/callback?state=x')).statusCode).toBe(404);

    const finished = await connect(bob, `${RETURN_ORIGIN}/done`);
    const redirected = await call('GET', `/oauth/acme/callback?state=${finished.state}&code=good`);
    expect(redirected.statusCode).toBe(302);
    const location = new URL(redirected.headers?.location as string);
    expect(`${location.origin}${location.pathname}`).toBe(`${RETURN_ORIGIN}/done`);
    expect(Object.keys(Object.fromEntries(location.searchParams)).sort()).toEqual(['claim', 'integration']);
    expect(location.searchParams.get('integration')).toBe('acme');
  });

  it('claim: the starting subject gets the connection, anyone else 403 (revoked), a used code 400', async () => {
    const erin = await token('erin');
    const { state } = await connect(erin);
    const code = claimOf(await call('GET', `/oauth/acme/callback?state=${state}&code=good`));
    expect(
      (await call('POST', '/connect/acme/claim', { body: JSON.stringify({ claim: code }) })).statusCode,
    ).toBe(401);
    const refusals: Array<[Call, string, number, string]> = [
      [{ headers: { ...erin, ...JSON_TYPE }, body: '{}' }, '/connect/acme/claim', 400, 'invalid_request'],
      [
        { headers: { ...erin, ...JSON_TYPE }, body: JSON.stringify({ claim: code, x: 1 }) },
        '/connect/acme/claim',
        400,
        'invalid_request',
      ],
      [
        { headers: { ...erin, 'content-type': 'text/plain' }, body: 'x' },
        '/connect/acme/claim',
        415,
        'invalid_request',
      ],
      [
        { headers: { ...erin, ...JSON_TYPE }, body: JSON.stringify({ claim: code }) },
        '/connect/nope/claim',
        404,
        'unknown_integration',
      ],
      [
        { headers: { ...erin, ...JSON_TYPE }, body: 'x'.repeat(DEFAULT_MAX_BODY_BYTES + 1) },
        '/connect/acme/claim',
        413,
        'invalid_request',
      ],
    ];
    for (const [options, path, status, error] of refusals) {
      const answer = await call('POST', path, options);
      expect({ path, status: answer.statusCode, error: answer.json?.error }).toEqual({ path, status, error });
    }
    const claimed = await claim(erin, code);
    expect([claimed.statusCode, claimed.json]).toEqual([200, { integration: 'acme', status: 'connected' }]);
    const again = await claim(erin, code);
    expect([again.statusCode, again.json?.error]).toEqual([400, 'invalid_grant']);

    const other = await connect(erin);
    const otherCode = claimOf(await call('GET', `/oauth/acme/callback?state=${other.state}&code=good`));
    revokeCalls = 0;
    const stolen = await claim(await token('mallory'), otherCode);
    expect([stolen.statusCode, stolen.json?.error]).toEqual([403, 'access_denied']);
    expect(revokeCalls).toBe(1);
  });

  it('vend, connections and disconnect', async () => {
    const carol = await token('carol');
    expect((await call('GET', '/vend/acme', { headers: carol })).json?.error).toBe('not_connected');
    expect((await call('DELETE', '/connections/acme', { headers: carol })).json?.error).toBe('not_connected');
    expect((await call('GET', '/vend/nope', { headers: carol })).json?.error).toBe('unknown_integration');
    expect((await call('GET', '/connections', { headers: carol })).json).toEqual({ connections: [] });

    await connectAndClaim(carol, 'good');
    const vended = await call('GET', '/vend/acme', { headers: carol });
    expect(vended.statusCode).toBe(200);
    expect(vended.json?.authorization).toEqual({
      header: 'Authorization',
      value: `Bearer ${vended.json?.access_token}`,
    });
    const listed = await call('GET', '/connections', { headers: carol });
    expect(listed.json?.connections).toEqual([
      expect.objectContaining({ integration: 'acme', status: 'connected' }),
    ]);
    expect(listed.body).not.toContain(vended.json?.access_token as string);

    revokeStatus = 503;
    const unreachable = await call('DELETE', '/connections/acme', { headers: carol });
    expect(unreachable.json?.error).toBe('temporarily_unavailable');
    expect((await call('GET', '/vend/acme', { headers: carol })).statusCode).toBe(200);
    revokeStatus = 200;
    // A passing outage is retried (with jitter) until the vendor confirms the revocation.
    revokeFailuresLeft = 1;
    revokeCalls = 0;
    expect((await call('DELETE', '/connections/acme', { headers: carol })).statusCode).toBe(204);
    expect(revokeCalls).toBe(2);
    expect((await call('GET', '/vend/acme', { headers: carol })).statusCode).toBe(404);
  });

  it('credentials: the vendor checks them, the caller vends them as Basic; every refusal', async () => {
    const gina = await token('gina');
    const post = (integration: string, body: unknown, auth: Record<string, string> = gina) =>
      call('POST', `/connect/${integration}/credentials`, {
        headers: { ...auth, ...JSON_TYPE },
        body: JSON.stringify(body),
      });
    const good = { username: 'gina', password: 'right-gina' };
    expect((await post('acme-agents', good, {})).statusCode).toBe(401);
    const refusals: Array<[string, unknown, number, string]> = [
      ['acme-agents', { username: 'gina', password: 'wrong' }, 400, 'invalid_grant'],
      ['acme-agents', { username: 'gina' }, 400, 'invalid_request'],
      ['acme-agents', { ...good, extra: 1 }, 400, 'invalid_request'],
      ['acme-agents', { username: 'Gina!', password: 'x' }, 400, 'invalid_request'],
      ['acme', good, 400, 'unsupported_grant_type'],
      ['nope', good, 404, 'unknown_integration'],
    ];
    for (const [integration, body, status, error] of refusals) {
      const answer = await post(integration, body);
      expect({ integration, status: answer.statusCode, error: answer.json?.error }).toEqual({
        integration,
        status,
        error,
      });
    }
    expect((await call('GET', '/vend/acme-agents', { headers: gina })).statusCode).toBe(404);
    const connected = await post('acme-agents', good);
    expect([connected.statusCode, connected.json]).toEqual([
      200,
      { integration: 'acme-agents', status: 'connected' },
    ]);
    const vended = await call('GET', '/vend/acme-agents', { headers: gina });
    expect(vended.json?.authorization).toEqual({
      header: 'Authorization',
      value: `Basic ${Buffer.from('gina:right-gina').toString('base64')}`,
    });
  });

  it('vend of a dead grant: 409 needs_reauth with reason and connect hint', async () => {
    const dave = await token('dave');
    await connectAndClaim(dave, 'short');
    const answer = await call('GET', '/vend/acme', { headers: dave });
    expect([answer.statusCode, answer.json]).toEqual([
      409,
      expect.objectContaining({
        error: 'needs_reauth',
        reason: 'invalid_grant',
        connect: { method: 'POST', path: '/connect/acme' },
      }),
    ]);
    const listed = await call('GET', '/connections', { headers: dave });
    expect(listed.json?.connections).toEqual([
      expect.objectContaining({ status: 'needs_reauth', reason: 'invalid_grant' }),
    ]);
  });

  it('SAML ACS refusals', async () => {
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    const cases: Array<[Call, string, number]> = [
      [{ headers: form, body: 'SAMLResponse=eA%3D%3D' }, '/saml/acme/acs', 404],
      [{ headers: form, body: 'SAMLResponse=eA%3D%3D' }, '/saml/nope/acs', 404],
      [{ headers: { 'content-type': 'application/json' }, body: '{}' }, '/saml/acme/acs', 415],
      [{ headers: form, body: 'SAMLResponse=a&SAMLResponse=b' }, '/saml/acme/acs', 400],
      [{ headers: form, body: `SAMLResponse=${'A'.repeat(DEFAULT_MAX_BODY_BYTES)}` }, '/saml/acme/acs', 413],
    ];
    for (const [options, path, status] of cases) {
      expect({ path, status: (await call('POST', path, options)).statusCode }).toEqual({ path, status });
    }
  });

  it('SAML login: a redirect to the IdP; 400 for a return_to off the list; 404 without SAML', async () => {
    const login = await call(
      'GET',
      `/saml/acme-sso/login?return_to=${encodeURIComponent(`${RETURN_ORIGIN}/x`)}`,
    );
    expect(login.statusCode).toBe(302);
    expect(String(login.headers?.location)).toMatch(/^https:\/\/idp\.example\.com\/sso\?SAMLRequest=/);
    const refused = await call('GET', '/saml/acme-sso/login?return_to=https%3A%2F%2Fevil.example%2F');
    expect(refused.statusCode).toBe(400);
    for (const path of ['/saml/acme/login', '/saml/nope/login']) {
      expect([path, (await call('GET', path)).statusCode]).toEqual([path, 404]);
    }
  });

  it('SAML SP metadata: the document; 404 without SAML', async () => {
    const metadata = await call('GET', '/saml/acme-sso/metadata');
    expect(metadata.statusCode).toBe(200);
    expect(metadata.body).toContain(`Location="${BASE}/saml/acme-sso/acs"`);
    for (const path of ['/saml/acme/metadata', '/saml/nope/metadata']) {
      const answer = await call('GET', path);
      expect([path, answer.statusCode, answer.json?.error]).toEqual([path, 404, 'unknown_integration']);
    }
  });

  it('service vend: allow-listed principals only', async () => {
    const denied = await call('GET', '/service/vend/acme-svc/reporting', {
      principal: 'arn:aws:iam::111122223333:role/other',
    });
    expect([denied.statusCode, denied.json?.error]).toEqual([403, 'access_denied']);
    expect(
      (await call('GET', '/service/vend/acme-svc/nope', { principal: REPORTING_ROLE })).json?.error,
    ).toBe('unknown_connection');
    expect(
      (await call('GET', '/service/vend/nope/reporting', { principal: REPORTING_ROLE })).statusCode,
    ).toBe(404);
    for (const name of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      const inherited = await call('GET', `/service/vend/acme-svc/${name}`, { principal: REPORTING_ROLE });
      expect([name, inherited.statusCode, inherited.json?.error]).toEqual([name, 404, 'unknown_connection']);
    }
    const vended = await call('GET', '/service/vend/acme-svc/reporting', { principal: REPORTING_ROLE });
    expect(vended.statusCode).toBe(200);
  });

  it('vend on behalf of a user: allow-listed principals only, the user named by subject claim', async () => {
    const post = (
      integration: string,
      body: unknown,
      principal = REPORTING_ROLE,
      type = 'application/json',
    ) =>
      call('POST', `/service/users/${integration}/vend`, {
        principal,
        headers: { 'content-type': type },
        body: JSON.stringify(body),
      });
    const denied = await post('acme', { user: 'frank' }, 'arn:aws:iam::111122223333:role/other');
    expect([denied.statusCode, denied.json?.error]).toEqual([403, 'access_denied']);
    // No onBehalfOf section: nobody may.
    expect((await post('acme-svc', { user: 'frank' })).statusCode).toBe(403);
    expect((await post('nope', { user: 'frank' })).json?.error).toBe('unknown_integration');
    expect((await post('acme', { user: 'frank' })).json?.error).toBe('not_connected');
    expect((await post('acme', {})).statusCode).toBe(400);
    expect((await post('acme', { user: 'frank', namespace: 'elsewhere' })).statusCode).toBe(400);
    expect((await post('acme', { user: 'frank' }, REPORTING_ROLE, 'text/plain')).statusCode).toBe(415);
    const frank = await token('frank');
    await connectAndClaim(frank, 'good');
    const vended = await post('acme', { user: 'frank' });
    expect(vended.statusCode).toBe(200);
    const own = await call('GET', '/vend/acme', { headers: frank });
    expect(vended.json?.access_token).toBe(own.json?.access_token);
  });

  it('proxy: the vendor answer for every method, and every refusal', async () => {
    const erin = await token('erin');
    await connectAndClaim(erin, 'good');
    for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE']) {
      const body = method === 'GET' ? undefined : '{"a":1}';
      const answer = await call(method, '/proxy/acme/v1/items?page=2', {
        headers: { ...erin, ...JSON_TYPE },
        body,
      });
      expect([method, answer.statusCode, answer.json]).toEqual([method, 200, { method, body: body ?? '' }]);
    }
    const refusals: Array<[string, string, Call, number, string]> = [
      ['GET', '/proxy/acme/v1/items', {}, 401, 'invalid_token'],
      ['GET', '/proxy/acme/v1/..%2f..%2fadmin', { headers: erin }, 400, 'invalid_request'],
      ['GET', '/proxy/acme/admin', { headers: erin }, 403, 'access_denied'],
      ['GET', '/proxy/acme-sso/v1/items', { headers: erin }, 404, 'not_found'],
      ['GET', '/proxy/nope/v1/items', { headers: erin }, 404, 'unknown_integration'],
      ['GET', '/proxy/acme/v1/items', { headers: await token('nobody') }, 404, 'not_connected'],
      [
        'POST',
        '/proxy/acme/v1/items',
        { headers: { ...erin, ...JSON_TYPE }, body: 'x'.repeat(1024 * 1024 + 1) },
        413,
        'invalid_request',
      ],
      ['PUT', '/proxy/acme/v1/items', { headers: erin, body: 'x' }, 415, 'invalid_request'],
    ];
    for (const [method, target, options, status, error] of refusals) {
      const answer = await call(method, target, options);
      expect([method, target, answer.statusCode, answer.json?.error]).toEqual([
        method,
        target,
        status,
        error,
      ]);
    }
  });

  it('token exchange (RFC 8693) and its metadata (RFC 8414)', async () => {
    const metadata = await call('GET', '/.well-known/oauth-authorization-server');
    expect([metadata.statusCode, metadata.json?.token_endpoint]).toEqual([200, `${BASE}/oauth2/token`]);
    const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
    const jwtOf = async (sub: string, from?: LocalIssuer) =>
      String((await token(sub, from)).authorization).slice(7);
    const form = (subjectToken: string, extra: Record<string, string> = {}) =>
      new URLSearchParams({
        grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
        subject_token: subjectToken,
        subject_token_type: 'urn:ietf:params:oauth:token-type:jwt',
        audience: 'acme',
        ...extra,
      }).toString();
    const gina = await jwtOf('gina');
    const cases: Array<[Call, number, string]> = [
      [{ headers: FORM, body: form(gina) }, 400, 'invalid_grant'],
      [{ headers: FORM, body: form(gina, { audience: 'nope' }) }, 400, 'invalid_target'],
      [{ headers: FORM, body: form(gina, { grant_type: 'password' }) }, 400, 'unsupported_grant_type'],
      [{ headers: FORM, body: form('not.a.jwt') }, 400, 'invalid_request'],
      [{ headers: FORM, body: form(gina, { client_secret: 'x' }) }, 400, 'invalid_client'],
      [{ headers: { ...FORM, authorization: 'Basic eDp5' }, body: form(gina) }, 401, 'invalid_client'],
      [{ headers: JSON_TYPE, body: '{}' }, 415, 'invalid_request'],
      [{ headers: FORM, body: 'x'.repeat(DEFAULT_MAX_BODY_BYTES + 1) }, 413, 'invalid_request'],
      [{ headers: FORM, body: form(await jwtOf('gina', downIssuer)) }, 503, 'temporarily_unavailable'],
    ];
    for (const [options, status, error] of cases) {
      const answer = await call('POST', '/oauth2/token', options);
      expect({ status: answer.statusCode, error: answer.json?.error }).toEqual({ status, error });
    }
    await connectAndClaim(await token('gina'), 'good');
    const exchanged = await call('POST', '/oauth2/token', { headers: FORM, body: form(gina) });
    const vended = await call('GET', '/vend/acme', { headers: await token('gina') });
    expect([exchanged.statusCode, exchanged.json?.access_token]).toEqual([200, vended.json?.access_token]);
  });

  it('exercised every route of the table', () => {
    const all = FUNCTIONS.flatMap((f) => f.routes.map((r) => `${r.method} ${r.path}`));
    expect([...documentedRoutes].sort()).toEqual(all.sort());
  });
});
