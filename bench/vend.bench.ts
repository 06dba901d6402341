/**
 * The warm `/vend` path end to end: the vend Lambda handler (middy chain, caller JWT verification with a warm
 * JWKS cache, store read + decrypt, coarse lastVendedAt touch, response shaping) against a bare GetItem of the
 * same item on the same DynamoDB Local and SDK client, interleaved in one run. Target: vend_ratio <= 1.25.
 * Then both again under 50 concurrent callers, 50 distinct subjects (one connection and one JWT each).
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import type { Context } from 'aws-lambda';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { createCallerVerifier } from '../functions/adapters/caller-auth/index.js';
import { createLocalCipher } from '../functions/adapters/crypto/index.js';
import { connectionKey } from '../functions/adapters/dynamodb/index.js';
import { LocalSecretSource } from '../functions/adapters/secrets/index.js';
import { loadDeployment } from '../functions/core/config/deployment.js';
import type { HttpEvent } from '../functions/handlers/middleware/types.js';
import type { App } from '../functions/handlers/runtime/app.js';
import { buildApp } from '../functions/handlers/runtime/build-app.js';
import { createVendHandler } from '../functions/handlers/vend.js';
import { startDynamoDbLocal } from '../test/support/dynamodb-local.js';
import { compare, type Figure, type Stats, statsOf } from './lib.js';

const INTEGRATION = 'acme';

function integrationOf(app: App) {
  const integration = app.flows.deployment.integrations.get(INTEGRATION);
  if (!integration) throw new Error(`bench config lacks ${INTEGRATION}`);
  return integration;
}
const AUDIENCE = 'tokenvend-bench';
const CALLERS = 50;
/** Sequential calls per concurrent caller and round; rounds alternate handler and bare (ABBA). */
const PER_CALLER = 20;
const ROUNDS = 4;

function listen(server: Server): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () =>
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
    );
  });
}

/** An API Gateway HTTP API (payload v2.0) event for `GET /vend/{integration}`. */
function vendEvent(jwt: string): HttpEvent {
  const now = new Date();
  return {
    version: '2.0',
    routeKey: 'GET /vend/{integration}',
    rawPath: `/vend/${INTEGRATION}`,
    rawQueryString: '',
    headers: { authorization: `Bearer ${jwt}`, host: 'tokens.example.com' },
    pathParameters: { integration: INTEGRATION },
    requestContext: {
      accountId: '111122223333',
      apiId: 'bench',
      domainName: 'tokens.example.com',
      domainPrefix: 'tokens',
      http: {
        method: 'GET',
        path: `/vend/${INTEGRATION}`,
        protocol: 'HTTP/1.1',
        sourceIp: '127.0.0.1',
        userAgent: 'bench',
      },
      requestId: 'bench',
      routeKey: 'GET /vend/{integration}',
      stage: '$default',
      time: now.toISOString(),
      timeEpoch: now.getTime(),
    },
    isBase64Encoded: false,
  };
}

/**
 * `CALLERS` callers at once, caller i always calling `fn(i)`, each `PER_CALLER` times in a row; returns
 * every call's latency.
 */
async function concurrently(fn: (caller: number) => Promise<unknown>, perCaller: number): Promise<number[]> {
  const samples: number[] = [];
  await Promise.all(
    Array.from({ length: CALLERS }, async (_, caller) => {
      for (let i = 0; i < perCaller; i++) {
        const start = performance.now();
        await fn(caller);
        samples.push(performance.now() - start);
      }
    }),
  );
  return samples;
}

export default async function vend(): Promise<Figure[]> {
  const ddb = await startDynamoDbLocal();
  const client = ddb.client();
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  const kid = randomBytes(8).toString('hex');
  const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' }] };
  let jwksFetches = 0;
  const idp = createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/jwks.json') {
      jwksFetches++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwks));
    } else res.writeHead(404).end();
  });
  try {
    const issuer = await listen(idp);
    const tableName = await ddb.createTable('bench-vend');
    const endpoint = (path: string) => `https://vendor.example/${path}`; // never contacted: no refresh
    const config = {
      callers: [{ issuer, audience: AUDIENCE, jwksUri: `${issuer}/jwks.json` }],
      integrations: {
        [INTEGRATION]: {
          provider: {
            id: INTEGRATION,
            name: 'Acme',
            endpoints: { authorize: endpoint('authorize'), token: endpoint('token') },
            grants: { authorization_code: { pkce: {} }, refresh_token: {} },
          },
          secret: { client_id: 'bench-client', client_secret: randomBytes(16).toString('hex') },
        },
      },
    };
    const deployment = loadDeployment(config, { builtins: new Map(), local: true });
    const app = buildApp({
      deployment,
      dynamo: { client, tableName },
      cipher: createLocalCipher(randomBytes(32)),
      secrets: LocalSecretSource.fromIntegrations(config.integrations),
      callers: createCallerVerifier(
        { callers: deployment.config.callers },
        { allowInsecureLoopbackJwks: true },
      ),
      logger: { error: () => undefined, info: () => undefined },
    });
    const handler = createVendHandler(() => Promise.resolve(app));
    const context = {} as Context;

    const now = Math.floor(Date.now() / 1000);
    const token = () => randomBytes(600).toString('base64url'); // vendor tokens are ~1 KB JWTs
    const subjects = Array.from({ length: CALLERS }, (_, i) => `bench-agent-${i}`);
    const accessTokens: string[] = [];
    const events: HttpEvent[] = [];
    const bareGets: Array<() => Promise<unknown>> = [];
    for (const subject of subjects) {
      const accessToken = token();
      accessTokens.push(accessToken);
      await app.flows.lifecycle.storeNewConnection(integrationOf(app), {
        subject,
        grant: 'authorization_code',
        // Valid for a day: every vend below is a warm vend of the stored token, never a refresh.
        tokens: {
          accessToken,
          tokenType: 'Bearer',
          expiresAt: now + 86_400,
          refreshToken: token(),
          refreshExpiresAt: now + 30 * 86_400,
          idToken: token(),
          issuedAt: now,
          scopes: ['read', 'write'],
        },
      });
      const jwt = await new SignJWT({ email: `${subject}@example.com` })
        .setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' })
        .setIssuer(issuer)
        .setAudience(AUDIENCE)
        .setSubject(subject)
        .setIssuedAt(now)
        .setExpirationTime(now + 3600)
        .sign(privateKey);
      events.push(vendEvent(jwt));
      const { pk, sk } = connectionKey(INTEGRATION, subject);
      const input = { TableName: tableName, Key: { pk: { S: pk }, sk: { S: sk } } };
      bareGets.push(() => client.send(new GetItemCommand(input)));
    }

    const callVend = async (i: number) => {
      const result = await handler(events[i] as HttpEvent, context);
      if (result.statusCode !== 200) throw new Error(`vend answered ${result.statusCode}: ${result.body}`);
      return result;
    };
    const bare = (i: number) => (bareGets[i] as () => Promise<unknown>)();

    // The vended token must be the stored one, shaped for the caller.
    const first = JSON.parse((await callVend(0)).body ?? '{}') as Record<string, unknown>;
    if (first.access_token !== accessTokens[0] || first.token_type !== 'Bearer')
      throw new Error('vend returned an unexpected body');

    const { baseline, candidate, ratio } = await compare(
      () => bare(0),
      () => callVend(0),
      { warmup: 200, iterations: 2000 },
    );

    const concurrentVend: number[] = [];
    const concurrentBare: number[] = [];
    await concurrently(callVend, 5); // warm-up: every subject's first vend, sockets opened
    await concurrently(bare, 5);
    for (let round = 0; round < ROUNDS; round++) {
      if (round % 2 === 0) {
        concurrentVend.push(...(await concurrently(callVend, PER_CALLER)));
        concurrentBare.push(...(await concurrently(bare, PER_CALLER)));
      } else {
        concurrentBare.push(...(await concurrently(bare, PER_CALLER)));
        concurrentVend.push(...(await concurrently(callVend, PER_CALLER)));
      }
    }
    if (jwksFetches !== 1) throw new Error(`JWKS fetched ${jwksFetches} times; the cache should hold it`);
    const vend50: Stats = statsOf(concurrentVend);
    const bare50: Stats = statsOf(concurrentBare);

    return [
      { name: 'vend_handler_ms', value: candidate.p50, unit: 'ms' },
      { name: 'vend_bare_getitem_ms', value: baseline.p50, unit: 'ms' },
      { name: 'vend_ratio', value: ratio, unit: 'x' },
      { name: 'vend_concurrent50_p50_ms', value: vend50.p50, unit: 'ms' },
      { name: 'vend_concurrent50_p99_ms', value: vend50.p99, unit: 'ms' },
      { name: 'vend_bare_getitem_concurrent50_p50_ms', value: bare50.p50, unit: 'ms' },
      { name: 'vend_bare_getitem_concurrent50_p99_ms', value: bare50.p99, unit: 'ms' },
    ];
  } finally {
    client.destroy();
    await new Promise<void>((resolve) => idp.close(() => resolve()));
    await ddb.stop();
  }
}
