/**
 * A small vendor whose every answer a test can script: an authorize endpoint that approves at once, a token
 * endpoint (authorization_code, refresh_token, client_credentials; Basic client auth) with one-shot failures,
 * and a resource API under `/api/` that accepts a live token from `Authorization: Bearer`, Basic (token as the
 * user name), `X-Api-Token` or `?access_token=` and answers 401 for an unknown, expired or revoked one.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ScriptedAnswer {
  status: number;
  body?: Record<string, unknown>;
  headers?: Record<string, string>;
}

export interface ApiCall {
  path: string;
  /** How the token came: `bearer`, `basic`, `x-api-token`, `query`, or `none`. */
  via: string;
  token: string | undefined;
  status: number;
}

export interface ScriptedVendor {
  readonly url: string;
  readonly client: { client_id: string; client_secret: string };
  /** Lifetime of the tokens issued from now on (seconds). */
  ttl: number;
  /** While true, every token issued is refused by the resource API from the start. */
  rejectNewTokens: boolean;
  /** Token requests by grant_type. */
  tokenRequests(grant?: string): number;
  /** The next token request of `grant` gets `answer` instead of tokens. */
  failNext(grant: string, answer: ScriptedAnswer): void;
  /** The resource API answers 401 for `accessToken` from now on. */
  revoke(accessToken: string): void;
  /** Access tokens issued so far, oldest first. */
  readonly issued: readonly string[];
  readonly apiCalls: ApiCall[];
  /** An inline provider template for this vendor; `usage` and other keys override. */
  template(id: string, overrides?: Record<string, unknown>): Record<string, unknown>;
  close(): Promise<void>;
}

/** The resource API answers browsers of any origin (the browser helper's tests call it from a page). */
const CORS = {
  'access-control-allow-origin': '*',
  'access-control-allow-headers': 'authorization, x-api-token, content-type',
  'access-control-allow-methods': 'GET, POST',
};

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers });
  res.end(JSON.stringify(body));
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function tokenOf(req: IncomingMessage, url: URL): { via: string; token: string | undefined } {
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ')) return { via: 'bearer', token: auth.slice(7) };
  if (auth?.startsWith('Basic ')) {
    const user = Buffer.from(auth.slice(6), 'base64').toString('utf8').split(':')[0];
    return { via: 'basic', token: user };
  }
  const header = req.headers['x-api-token'];
  if (typeof header === 'string') return { via: 'x-api-token', token: header };
  const query = url.searchParams.get('access_token');
  if (query !== null) return { via: 'query', token: query };
  return { via: 'none', token: undefined };
}

export async function startScriptedVendor(): Promise<ScriptedVendor> {
  const client = { client_id: 'scripted-client', client_secret: randomBytes(18).toString('base64url') };
  const codes = new Set<string>();
  const refreshTokens = new Set<string>();
  const live = new Map<string, number>(); // access token -> expiry (epoch ms)
  const revoked = new Set<string>();
  const counts = new Map<string, number>();
  const failures = new Map<string, ScriptedAnswer[]>();
  const issued: string[] = [];
  const apiCalls: ApiCall[] = [];
  let serial = 0;

  const vendor = { ttl: 300, rejectNewTokens: false };

  const issue = (withRefresh: boolean): Record<string, unknown> => {
    serial += 1;
    const accessToken = `at-${serial}-${randomBytes(6).toString('hex')}`;
    issued.push(accessToken);
    if (vendor.rejectNewTokens) revoked.add(accessToken);
    live.set(accessToken, Date.now() + vendor.ttl * 1000);
    const answer: Record<string, unknown> = {
      access_token: accessToken,
      token_type: 'Bearer',
      expires_in: vendor.ttl,
      scope: 'api',
    };
    if (withRefresh) {
      const refreshToken = `rt-${serial}-${randomBytes(6).toString('hex')}`;
      refreshTokens.add(refreshToken);
      answer.refresh_token = refreshToken;
    }
    return answer;
  };

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://vendor');
    (async () => {
      if (url.pathname === '/authorize' && req.method === 'GET') {
        const redirect = new URL(url.searchParams.get('redirect_uri') ?? '');
        const code = `code-${randomBytes(8).toString('hex')}`;
        codes.add(code);
        redirect.searchParams.set('code', code);
        redirect.searchParams.set('state', url.searchParams.get('state') ?? '');
        res.writeHead(302, { location: redirect.toString() });
        res.end();
        return;
      }
      if (url.pathname === '/token' && req.method === 'POST') {
        const form = await readForm(req);
        const grant = form.get('grant_type') ?? '';
        counts.set(grant, (counts.get(grant) ?? 0) + 1);
        const expected = `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64')}`;
        if (req.headers.authorization !== expected) {
          send(res, 401, { error: 'invalid_client' });
          return;
        }
        const scripted = failures.get(grant)?.shift();
        if (scripted) {
          send(res, scripted.status, scripted.body ?? {}, scripted.headers);
          return;
        }
        if (grant === 'authorization_code') {
          const code = form.get('code') ?? '';
          if (!codes.delete(code)) {
            send(res, 400, { error: 'invalid_grant' });
            return;
          }
          send(res, 200, issue(true));
          return;
        }
        if (grant === 'refresh_token') {
          if (!refreshTokens.delete(form.get('refresh_token') ?? '')) {
            send(res, 400, { error: 'invalid_grant' });
            return;
          }
          send(res, 200, issue(true));
          return;
        }
        if (grant === 'client_credentials') {
          send(res, 200, issue(false));
          return;
        }
        send(res, 400, { error: 'unsupported_grant_type' });
        return;
      }
      if (url.pathname.startsWith('/api/') && req.method === 'OPTIONS') {
        res.writeHead(204, CORS);
        res.end();
        return;
      }
      if (url.pathname.startsWith('/api/')) {
        const { via, token } = tokenOf(req, url);
        const expiry = token === undefined ? undefined : live.get(token);
        const ok = token !== undefined && expiry !== undefined && expiry > Date.now() && !revoked.has(token);
        const status = ok ? 200 : 401;
        apiCalls.push({ path: url.pathname, via, token, status });
        if (ok && url.pathname === '/api/moved') {
          const target = url.searchParams.get('to') ?? '/api/me';
          res.writeHead(302, { location: target });
          res.end();
          return;
        }
        if (!ok) {
          send(
            res,
            401,
            { error: 'invalid_token' },
            { ...CORS, 'www-authenticate': 'Bearer error="invalid_token"' },
          );
          return;
        }
        send(res, 200, { path: url.pathname, via, token }, CORS);
        return;
      }
      send(res, 404, { error: 'not_found' });
    })().catch(() => {
      if (!res.headersSent) send(res, 500, { error: 'server_error' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return Object.assign(vendor, {
    url: base,
    client,
    issued,
    apiCalls,
    tokenRequests: (grant?: string) =>
      grant === undefined ? [...counts.values()].reduce((a, b) => a + b, 0) : (counts.get(grant) ?? 0),
    failNext(grant: string, answer: ScriptedAnswer) {
      const list = failures.get(grant) ?? [];
      list.push(answer);
      failures.set(grant, list);
    },
    revoke(accessToken: string) {
      revoked.add(accessToken);
    },
    template(id: string, overrides: Record<string, unknown> = {}) {
      return {
        id,
        name: `Scripted vendor (${id})`,
        endpoints: { authorize: `${base}/authorize`, token: `${base}/token` },
        grants: {
          authorization_code: { clientAuth: 'basic', pkce: {} },
          refresh_token: { clientAuth: 'basic' },
          client_credentials: { clientAuth: 'basic' },
        },
        response: { expiryFromJwt: false },
        ...overrides,
      };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}
