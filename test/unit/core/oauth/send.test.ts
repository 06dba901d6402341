import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MalformedResponseError, VendorUnavailableError } from '../../../../functions/core/errors.js';
import { MAX_VENDOR_BODY_BYTES } from '../../../../functions/core/oauth/http.js';
import { send } from '../../../../functions/core/oauth/send.js';
import { processTokenResponse } from '../../../../functions/core/oauth/token-response.js';
import { provider } from '../fixtures.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
let server: Server;
let base: string;
let handler: Handler = (_req, res) => res.end();
const seen: { method?: string; url?: string; body: string }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      seen.push({ method: req.method, url: req.url, body });
      handler(req, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const post = (path: string, timeoutMs = 2000) =>
  send(
    { method: 'POST', url: `${base}${path}`, headers: { 'content-type': 'text/plain' }, body: 'hi' },
    { fetch, timeoutMs },
  );

async function rejection(promise: Promise<unknown>): Promise<VendorUnavailableError> {
  const e = await promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(VendorUnavailableError);
  return e as VendorUnavailableError;
}

describe('send', () => {
  it('sends method, headers and body and reads status, headers and body', async () => {
    handler = (_req, res) => res.writeHead(201, { 'x-vendor': 'yes' }).end('{"ok":true}');
    const r = await post('/token');
    expect(r.status).toBe(201);
    expect(r.headers.get('x-vendor')).toBe('yes');
    expect(r.body).toBe('{"ok":true}');
    expect(seen.at(-1)).toEqual({ method: 'POST', url: '/token', body: 'hi' });
  });

  it('a timeout is VendorUnavailableError with outcomeUnknown true', async () => {
    handler = (_req, res) => {
      setTimeout(() => res.end('{}'), 1000).unref();
    };
    const started = Date.now();
    const e = await rejection(post('/slow', 150));
    expect(Date.now() - started).toBeLessThan(900);
    expect(e.outcomeUnknown).toBe(true);
    expect(e.message).toMatch(/did not answer within 150 ms/);
  });

  it('a timeout while the body is still streaming is outcomeUnknown too', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"access_token":');
    };
    expect((await rejection(post('/stall', 200))).outcomeUnknown).toBe(true);
  });

  it('a refused connection is outcomeUnknown false', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const e = await rejection(
      send({ method: 'POST', url: `http://127.0.0.1:${port}/t`, headers: {} }, { fetch, timeoutMs: 2000 }),
    );
    expect(e.outcomeUnknown).toBe(false);
    expect(e.message).toMatch(/ECONNREFUSED/);
  });

  it('a connection reset after sending is outcomeUnknown true', async () => {
    handler = (req) => req.socket.destroy();
    expect((await rejection(post('/reset'))).outcomeUnknown).toBe(true);
  });

  it.each([
    ['with Content-Length', true],
    ['chunked', false],
  ])('a body over the cap (%s) reads as empty, then as malformed', async (_, withLength) => {
    const big = `{"access_token":"${'x'.repeat(MAX_VENDOR_BODY_BYTES)}"}`;
    handler = (_req, res) => {
      res.writeHead(200, withLength ? { 'content-length': String(Buffer.byteLength(big)) } : {});
      // Write in pieces so a chunked answer really streams.
      for (let i = 0; i < big.length; i += 64 * 1024) res.write(big.slice(i, i + 64 * 1024));
      res.end();
    };
    const r = await post('/big', 5000);
    expect(r.status).toBe(200);
    expect(r.body).toBe('');
    expect(() => processTokenResponse(provider(), r, 1_800_000_000)).toThrow(MalformedResponseError);
  });

  it('a body at the cap is read whole', async () => {
    const body = 'y'.repeat(MAX_VENDOR_BODY_BYTES);
    handler = (_req, res) => res.end(body);
    expect((await post('/edge', 5000)).body).toHaveLength(MAX_VENDOR_BODY_BYTES);
  });

  it('does not follow redirects', async () => {
    handler = (req, res) => {
      if (req.url === '/moved') res.writeHead(307, { location: `${base}/elsewhere` }).end();
      else res.end('{"followed":true}');
    };
    const before = seen.length;
    const r = await post('/moved');
    expect(r.status).toBe(307);
    expect(r.headers.get('location')).toBe(`${base}/elsewhere`);
    expect(seen.slice(before).map((s) => s.url)).toEqual(['/moved']);
  });
});
