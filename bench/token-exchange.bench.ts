/**
 * RFC 8693 token exchange against `GET /vend` on the same warm store (target: a ratio <= 1.05), interleaved (ABBA),
 * three ways in one run:
 * - handlers: the two Lambda handlers (the same middy chains as in AWS) called in-process with the API Gateway
 *   events the local runtime builds, on the local runtime's app (caller JWT verified, connection read from
 *   dynalite and decrypted, audit record written, no vendor call because the token is fresh):
 *   `token_exchange_handler_ratio`, tokenvend's own cost;
 * - HTTP: the same two requests over loopback HTTP to `startLocalServer` (`fetch`, keep-alive):
 *   `token_exchange_http_ratio`. The exchange is a POST with a ~1 KB form body, `/vend` a GET;
 * - what a POST with that body costs over a GET on loopback with nothing behind it (a bare node:http server,
 *   the local runtime's body reader): `loopback_post_minus_get_p50`, the part of the HTTP difference that is
 *   transport (in AWS, API Gateway's).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Context } from 'aws-lambda';
import type { HttpEvent } from '../functions/handlers/middleware/types.js';
import { readBody } from '../functions/local/api-gateway-event.js';
import { HANDLER_FACTORIES } from '../functions/local/handlers.js';
import { connect, OIDC, startStack } from '../test/e2e/support/stack.js';
import { compare, type Figure } from './lib.js';

const GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
const JWT_TYPE = 'urn:ietf:params:oauth:token-type:jwt';
const FORM = 'application/x-www-form-urlencoded';

function event(method: string, path: string, route: string, extra: Partial<HttpEvent>): HttpEvent {
  return {
    version: '2.0',
    routeKey: `${method} ${route}`,
    rawPath: path,
    rawQueryString: '',
    headers: {},
    requestContext: {
      domainName: '127.0.0.1',
      http: { method, path, sourceIp: '127.0.0.1', userAgent: 'bench' },
    },
    isBase64Encoded: false,
    ...extra,
  } as unknown as HttpEvent;
}

/** GET vs POST of `body` over loopback to a server that reads the body and answers at once: the transport. */
async function loopbackPostCost(body: string): Promise<number> {
  const server = createServer((req, res) => {
    readBody(req, 1 << 20)
      .then(() => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'))
      .catch(() => res.writeHead(500).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  try {
    const get = async () => (await fetch(url)).arrayBuffer();
    const post = async () =>
      (await fetch(url, { method: 'POST', headers: { 'content-type': FORM }, body })).arrayBuffer();
    const result = await compare(get, post, { warmup: 200, iterations: 2000 });
    return result.candidate.p50 - result.baseline.p50;
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

export default async function tokenExchangeBench(): Promise<Figure[]> {
  // An hour-long vendor token: nothing is due during the run, both paths read the same warm connection.
  const stack = await startStack({ accessTokenTtl: 3600 });
  try {
    await connect(stack, 'bench-user');
    const jwt = await stack.token('bench-user');
    const expected = (await stack.call('GET', `/vend/${OIDC}`, { token: jwt })).json?.access_token;
    const body = new URLSearchParams({
      grant_type: GRANT,
      subject_token: jwt,
      subject_token_type: JWT_TYPE,
      audience: OIDC,
    }).toString();
    const check = (what: string, status: number | undefined, text: string | undefined) => {
      if (status !== 200) throw new Error(`${what}: ${status}`);
      if ((JSON.parse(text ?? '{}') as { access_token?: string }).access_token !== expected) {
        throw new Error(`${what}: another token`);
      }
    };

    const getApp = async () => stack.server.local.app;
    const vendHandler = HANDLER_FACTORIES.vend?.(getApp);
    const exchangeHandler = HANDLER_FACTORIES['token-exchange']?.(getApp);
    if (!vendHandler || !exchangeHandler) throw new Error('handlers missing');
    const context = {} as Context;
    const vendEvent = () =>
      event('GET', `/vend/${OIDC}`, '/vend/{integration}', {
        headers: { authorization: `Bearer ${jwt}` },
        pathParameters: { integration: OIDC },
      });
    const exchangeEvent = () =>
      event('POST', '/oauth2/token', '/oauth2/token', { headers: { 'content-type': FORM }, body });
    const handlers = await compare(
      async () => {
        const answer = await vendHandler(vendEvent(), context);
        check('vend handler', answer.statusCode, answer.body);
      },
      async () => {
        const answer = await exchangeHandler(exchangeEvent(), context);
        check('token exchange handler', answer.statusCode, answer.body);
      },
      { warmup: 200, iterations: 2000 },
    );

    const http = await compare(
      async () => {
        const answer = await fetch(`${stack.url}/vend/${OIDC}`, {
          headers: { authorization: `Bearer ${jwt}` },
        });
        check('vend', answer.status, await answer.text());
      },
      async () => {
        const answer = await fetch(`${stack.url}/oauth2/token`, {
          method: 'POST',
          headers: { 'content-type': FORM, accept: 'application/json' },
          body,
        });
        check('token exchange', answer.status, await answer.text());
      },
      { warmup: 100, iterations: 1000 },
    );
    if (stack.spy.count('/token', 'refresh_token') !== 0)
      throw new Error('a refresh ran during the benchmark');
    const postCost = await loopbackPostCost(body);
    return [
      { name: 'token_exchange_handler_vend_p50', value: handlers.baseline.p50, unit: 'ms' },
      { name: 'token_exchange_handler_p50', value: handlers.candidate.p50, unit: 'ms' },
      { name: 'token_exchange_handler_ratio', value: handlers.ratio, unit: 'x' },
      { name: 'token_exchange_http_vend_p50', value: http.baseline.p50, unit: 'ms' },
      { name: 'token_exchange_http_p50', value: http.candidate.p50, unit: 'ms' },
      { name: 'token_exchange_http_ratio', value: http.ratio, unit: 'x' },
      { name: 'loopback_post_minus_get_p50', value: postCost, unit: 'ms' },
    ];
  } finally {
    await stack.close();
  }
}
