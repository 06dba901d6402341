/**
 * Service connections whose credentials no refresh token renews (client credentials) are obtained single-flight
 * and not during a vendor's Retry-After: a burst of first vends, or of vends of an expired token, makes one vendor
 * request; after a 429 nobody asks the vendor again until it said to. The vendor is a loopback token endpoint
 * that counts requests.
 */

import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Stack, startStack } from './support/stack.js';

let vendor: Server;
let stack: Stack;
let requests = 0;
/** What the vendor answers next: a token living `lifetime` seconds after `delayMs`, or a 429. */
let behaviour:
  | { kind: 'token'; lifetime: number; delayMs: number }
  | { kind: 'limited'; retryAfter: number } = {
  kind: 'token',
  lifetime: 3600,
  delayMs: 200,
};

beforeAll(async () => {
  vendor = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      requests++;
      const b = behaviour;
      if (b.kind === 'limited') {
        res.writeHead(429, { 'content-type': 'application/json', 'retry-after': String(b.retryAfter) });
        res.end('{"error":"rate_limited"}');
        return;
      }
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
        res.end(
          JSON.stringify({
            access_token: `svc-${randomUUID()}`,
            token_type: 'Bearer',
            expires_in: b.lifetime,
          }),
        );
      }, b.delayMs);
    });
  });
  await new Promise<void>((resolve) => vendor.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(vendor.address() as AddressInfo).port}`;
  stack = await startStack({
    extraIntegrations: () => ({
      svc: {
        provider: {
          id: 'svc-vendor',
          name: 'A client-credentials vendor',
          endpoints: { token: `${origin}/oauth/token` },
          grants: { client_credentials: { clientAuth: 'basic', refreshable: false } },
        },
        secret: { client_id: 'svc-client', client_secret: `svc-secret-${randomUUID()}` },
        serviceConnections: {
          burst: { grant: 'client_credentials' },
          expiring: { grant: 'client_credentials' },
          limited: { grant: 'client_credentials' },
        },
      },
    }),
  });
});

afterAll(async () => {
  await stack?.close();
  await new Promise<void>((resolve) => (vendor ? vendor.close(() => resolve()) : resolve()));
});

const vend = (connection: string) => stack.call('GET', `/service/vend/svc/${connection}`);

describe('obtaining service credentials', () => {
  it('50 concurrent first vends make one vendor request, and all get its token', async () => {
    behaviour = { kind: 'token', lifetime: 3600, delayMs: 200 };
    const before = requests;
    const answers = await Promise.all(Array.from({ length: 50 }, () => vend('burst')));
    expect(answers.map((a) => a.status)).toEqual(Array(50).fill(200));
    expect(new Set(answers.map((a) => a.json?.access_token)).size).toBe(1);
    expect(requests - before).toBe(1);
  });

  it('30 concurrent vends of an expired token make one vendor request for the next', async () => {
    behaviour = { kind: 'token', lifetime: 2, delayMs: 100 };
    const before = requests;
    const first = await vend('expiring');
    expect(first.status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    const answers = await Promise.all(Array.from({ length: 30 }, () => vend('expiring')));
    expect(answers.map((a) => a.status)).toEqual(Array(30).fill(200));
    const tokens = new Set(answers.map((a) => a.json?.access_token));
    expect(tokens.size).toBe(1);
    expect(tokens.has(first.json?.access_token)).toBe(false);
    expect(requests - before).toBe(2);
  });

  it('after a 429 with Retry-After: 60, nobody asks the vendor again before then; each caller gets 503 and the wait', async () => {
    behaviour = { kind: 'limited', retryAfter: 60 };
    const before = requests;
    const first = await vend('limited');
    expect([first.status, first.json?.error]).toEqual([503, 'temporarily_unavailable']);
    const answers = await Promise.all(Array.from({ length: 20 }, () => vend('limited')));
    for (const answer of answers) {
      expect(answer.status).toBe(503);
      const wait = Number(answer.headers.get('retry-after'));
      expect(wait).toBeGreaterThanOrEqual(55);
      expect(wait).toBeLessThanOrEqual(60);
    }
    expect(requests - before).toBe(1);
    // Other service connections of the same integration are not held back.
    behaviour = { kind: 'token', lifetime: 3600, delayMs: 0 };
    expect((await vend('burst')).status).toBe(200);
  });
});
