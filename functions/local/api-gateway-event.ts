/**
 * Turns a Node HTTP request into the API Gateway HTTP API (payload v2.0) event our Lambda handlers take,
 * and writes their structured result back. This is what makes `npm start` run the very same handlers.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { InvalidRequestError } from '../core/errors.js';

export interface Route {
  method: string;
  /** `/vend/{integration}` style, as in the CDK stack. */
  path: string;
}

/**
 * Matches `pathname` against a route pattern; returns the path parameters (percent-decoded once, as API Gateway
 * hands them over) or undefined. A final `{name+}` is greedy: the rest of the path, slashes included, under `name`.
 */
export function matchRoute(pattern: string, pathname: string): Record<string, string> | undefined {
  const names: string[] = [];
  const regex = new RegExp(
    `^${pattern.replace(
      /\{([A-Za-z0-9_]+)(\+?)\}|[.*+?^$()|[\]\\]/g,
      (match, name: string | undefined, greedy: string) => {
        if (name === undefined) return `\\${match}`;
        names.push(name);
        return greedy ? '(.+)' : '([^/]+)';
      },
    )}$`,
  );
  const m = regex.exec(pathname);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  for (const [i, name] of names.entries()) {
    try {
      params[name] = decodeURIComponent(m[i + 1] as string);
    } catch {
      // API Gateway refuses a malformed percent-encoding before any Lambda runs: so does the local runtime.
      throw new InvalidRequestError(`the ${name} in the path is not valid percent-encoding`);
    }
  }
  return params;
}

/**
 * Reads a request body of at most `maxBytes`; a larger one is a 413 (as API Gateway answers past its payload
 * limit), decided from Content-Length when the client sent one, else while reading.
 */
export async function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const tooLarge = () => new InvalidRequestError('the request body is too large', { status: 413 });
  if (Number(req.headers['content-length'] ?? 0) > maxBytes) {
    req.resume(); // discard the rest, so the client reads the 413 instead of a reset connection
    throw tooLarge();
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    req.on('data', (chunk: Buffer) => {
      total += chunk.length;
      if (total <= maxBytes) chunks.push(chunk);
    });
    req.once('error', reject);
    req.once('end', () => (total > maxBytes ? reject(tooLarge()) : resolve(Buffer.concat(chunks))));
  });
}

export function toEvent(
  req: IncomingMessage,
  url: URL,
  route: Route,
  pathParameters: Record<string, string>,
  body: Buffer,
): APIGatewayProxyEventV2 {
  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    if (name === 'cookie') cookies.push(...String(value).split(/;\s*/));
    else headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  const query: Record<string, string> = {};
  for (const key of new Set(url.searchParams.keys())) query[key] = url.searchParams.getAll(key).join(',');
  const now = new Date();
  return {
    version: '2.0',
    routeKey: `${route.method} ${route.path}`,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    cookies: cookies.length ? cookies : undefined,
    headers,
    queryStringParameters: Object.keys(query).length ? query : undefined,
    pathParameters: Object.keys(pathParameters).length ? pathParameters : undefined,
    requestContext: {
      accountId: 'local',
      apiId: 'local',
      domainName: url.host,
      domainPrefix: 'local',
      http: {
        method: req.method ?? 'GET',
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        userAgent: req.headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey: `${route.method} ${route.path}`,
      stage: '$default',
      time: now.toISOString(),
      timeEpoch: now.getTime(),
    },
    body: body.length ? body.toString('base64') : undefined,
    isBase64Encoded: body.length > 0,
  };
}

export function writeResult(res: ServerResponse, result: APIGatewayProxyStructuredResultV2): void {
  const headers: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(result.headers ?? {})) headers[k] = String(v);
  if (result.cookies?.length) headers['set-cookie'] = result.cookies;
  res.writeHead(result.statusCode ?? 200, headers);
  const body = result.body ?? '';
  res.end(result.isBase64Encoded ? Buffer.from(body, 'base64') : body);
}
