/**
 * A vendor-shaped resource server on loopback for the API proxy: every request must carry an access token the
 * way the template's usage says (a custom header or a query parameter), and the token must be one the test
 * vendor (oidc-provider) accepts at its userinfo endpoint and the test has not revoked here. It records what it
 * was sent (headers and body), so a test can assert what reached the vendor.
 *
 * Under the base path (`/api/v2`): `GET /users/me` (who the token is), `* /echo/...` (echoes the body, the status
 * from `?status=`), `GET /limited` (429 + Retry-After), `GET /redirect` (302 to another host), `GET /big?bytes=N`
 * (a chunked body without Content-Length), `GET /binary` (bytes 0..255), `GET /gzip` (a gzip-encoded JSON body).
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';

export const API_BASE_PATH = '/api/v2';

export interface ApiRequest {
  method: string;
  /** The request target as received (path and query). */
  url: string;
  headers: Record<string, string>;
  body: Buffer;
  /** The token the request carried, if any. */
  token: string | undefined;
  status: number;
}

export interface VendorApi {
  /** The server's origin; the template's `api.baseUrl` is `${url}${API_BASE_PATH}`. */
  url: string;
  readonly requests: ApiRequest[];
  /** From now on, answer this token with 401 (as a vendor does with a token it revoked). */
  revoke(token: string): void;
  close(): Promise<void>;
}

export interface VendorApiOptions {
  /** Where the token is: `{header, prefix}` (`X-Vendor-Token: Token <t>`) or `{query}`. */
  token: { header: string; prefix: string } | { query: string };
  /**
   * The vendor's userinfo endpoint (asked per request: the API can start before the vendor): a token is good when
   * it answers 200 to it (cached per token).
   */
  userinfo: () => string;
  /** Added to every answer, to model a vendor's own processing time. */
  latencyMs?: number;
}

async function readAll(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export async function startVendorApi(options: VendorApiOptions): Promise<VendorApi> {
  const requests: ApiRequest[] = [];
  const revoked = new Set<string>();
  const subjects = new Map<string, string | undefined>();

  async function subjectOf(token: string | undefined): Promise<string | undefined> {
    if (token === undefined || revoked.has(token)) return undefined;
    if (!subjects.has(token)) {
      const answer = await fetch(options.userinfo(), { headers: { authorization: `Bearer ${token}` } });
      const body = (await answer.json().catch(() => ({}))) as { sub?: string };
      subjects.set(token, answer.status === 200 ? body.sub : undefined);
    }
    return subjects.get(token);
  }

  const server: Server = createServer((req, res) => {
    (async () => {
      const body = await readAll(req);
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k] = String(v);
      const url = new URL(req.url ?? '/', 'http://vendor.invalid');
      let token: string | undefined;
      if ('query' in options.token) token = url.searchParams.get(options.token.query) ?? undefined;
      else {
        const value = headers[options.token.header.toLowerCase()];
        if (value?.startsWith(options.token.prefix)) token = value.slice(options.token.prefix.length);
      }
      const record: ApiRequest = {
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        headers,
        body,
        token,
        status: 0,
      };
      requests.push(record);
      if (options.latencyMs) await new Promise((r) => setTimeout(r, options.latencyMs));
      const send = (status: number, out: Record<string, string | number>, payload: Buffer | string = '') => {
        record.status = status;
        res.writeHead(status, out);
        res.end(payload);
      };
      const sub = await subjectOf(token);
      if (sub === undefined) {
        send(
          401,
          { 'content-type': 'application/json', 'www-authenticate': 'Bearer error="invalid_token"' },
          JSON.stringify({ error: 'invalid_token' }),
        );
        return;
      }
      if (!url.pathname.startsWith(`${API_BASE_PATH}/`)) {
        send(404, { 'content-type': 'application/json' }, JSON.stringify({ error: 'not_found' }));
        return;
      }
      const path = url.pathname.slice(API_BASE_PATH.length);
      const json = (status: number, value: unknown, extra: Record<string, string> = {}) =>
        send(status, { 'content-type': 'application/json', ...extra }, JSON.stringify(value));
      if (path === '/users/me' || path.startsWith('/users/')) {
        json(200, { sub, path, query: url.search });
      } else if (path.startsWith('/echo/')) {
        const status = Number(url.searchParams.get('status') ?? 200);
        send(
          status,
          {
            'content-type': headers['content-type'] ?? 'application/json',
            'set-cookie': 'vendor-session=secret; Path=/',
            connection: 'x-vendor-hop',
            'x-vendor-hop': 'hop-by-hop',
            etag: '"v1"',
            'x-ratelimit-remaining': '41',
            'x-echo-method': record.method,
          },
          body.length ? body : JSON.stringify({ method: record.method, path, query: url.search }),
        );
      } else if (path === '/limited') {
        json(429, { error: 'rate_limited' }, { 'retry-after': '7' });
      } else if (path === '/redirect') {
        send(302, { location: 'https://evil.example/landing' });
      } else if (path === '/big') {
        const bytes = Number(url.searchParams.get('bytes') ?? 0);
        record.status = 200;
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        const chunk = Buffer.alloc(64 * 1024, 'x');
        for (let left = bytes; left > 0; left -= chunk.length) {
          if (!res.write(left >= chunk.length ? chunk : chunk.subarray(0, left))) {
            await new Promise((r) => res.once('drain', r));
          }
        }
        res.end();
      } else if (path === '/binary') {
        send(
          200,
          { 'content-type': 'application/octet-stream' },
          Buffer.from(Array.from({ length: 256 }, (_, i) => i)),
        );
      } else if (path === '/gzip') {
        send(
          200,
          { 'content-type': 'application/json', 'content-encoding': 'gzip' },
          gzipSync(JSON.stringify({ compressed: true, sub })),
        );
      } else {
        json(404, { error: 'not_found' });
      }
    })().catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    revoke: (token) => {
      revoked.add(token);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
