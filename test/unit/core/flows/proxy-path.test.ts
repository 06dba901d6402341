/**
 * The proxy's request shaping, without a network: the path check (and, as a property, that whatever it accepts
 * lands under the API base URL on the base's host), the allow-list, the query and the headers it forwards.
 */
import fc from 'fast-check';
import { loadDeployment } from '../../../../functions/core/config/deployment.js';
import { TokenvendError } from '../../../../functions/core/errors.js';
import {
  allowedBy,
  checkProxyPath,
  displayPath,
  forwardedRequestHeaders,
  forwardQuery,
  isForwardableHeader,
  returnedResponseHeaders,
  targetUrl,
  underPrefix,
} from '../../../../functions/core/flows/proxy.js';

const BASE = 'https://api.vendor.example/api/v2';

function refusal(fn: () => unknown): { status: number; error: string } {
  try {
    fn();
  } catch (e) {
    if (e instanceof TokenvendError) return { status: e.status, error: e.error };
    throw e;
  }
  throw new Error('expected a refusal');
}

describe('checkProxyPath', () => {
  it.each([
    'users/7',
    'users/7/',
    'users/john doe@example.com',
    'a/b:c/d;e=f',
    'users/..hidden',
    'users/.well-known',
    'ünïcode/名前',
  ])('accepts %j', (path) => {
    expect(checkProxyPath(path)).toEqual(path.split('/'));
  });

  it.each([
    ['', 'empty'],
    ['..', 'dot-dot'],
    ['../admin', 'traversal up'],
    ['users/../../admin', 'traversal in the middle'],
    ['users/.', 'dot segment'],
    ['./users', 'leading dot segment'],
    ['/users', 'leading slash (an empty segment)'],
    ['//evil.example/x', 'network-path reference'],
    ['https://evil.example/x', 'absolute URL'],
    ['users//7', 'empty segment'],
    ['users\\..\\admin', 'backslash'],
    ['users/%2e%2e/admin', 'a double-encoded dot-dot (decoded once: %2e%2e left)'],
    ['users/..%2fadmin', 'a double-encoded slash'],
    ['users/%5c', 'a double-encoded backslash'],
    ['users/100%', 'a bare percent'],
    ['users/\u0000', 'NUL'],
    ['users/a\r\nX-Injected: 1', 'CRLF'],
    ['users/\u007f', 'DEL'],
  ])('refuses %j (%s) with 400', (path) => {
    expect(refusal(() => checkProxyPath(path))).toEqual({ status: 400, error: 'invalid_request' });
  });

  it('keeps every accepted path under the base URL, on the base host (property)', () => {
    // Segments drawn from characters that matter to URL parsing, with dots, slashes and escapes mixed in.
    const char = fc.constantFrom(
      ..."aZ09-._~!$&'()*+,;=:@/?#[]%\\ .é名\u0000\t".split(''),
      '..',
      '%2e',
      '%2f',
      '//',
      'http:',
    );
    fc.assert(
      fc.property(
        fc.array(char, { minLength: 1, maxLength: 24 }),
        fc.string({ maxLength: 20 }),
        (parts, q) => {
          const path = parts.join('');
          let segments: string[];
          try {
            segments = checkProxyPath(path);
          } catch (e) {
            expect(e).toBeInstanceOf(TokenvendError);
            return;
          }
          const url = targetUrl(BASE, segments, forwardQuery(q, { header: 'authorization', value: 'x' }));
          expect(url.origin).toBe('https://api.vendor.example');
          expect(url.pathname.startsWith('/api/v2/')).toBe(true);
          expect(url.hash).toBe('');
          // The vendor resolves no dot segment out of it: the path it sees decodes back to the caller's segments.
          const sent = url.pathname.slice('/api/v2/'.length).split('/').map(decodeURIComponent);
          expect(sent).toEqual(segments);
        },
      ),
      { numRuns: 3000 },
    );
  });
});

describe('targetUrl', () => {
  it('appends the re-encoded segments to the base path and keeps the host', () => {
    expect(targetUrl(BASE, ['users', 'john doe@x', 'a?b#c'], 'page=2').toString()).toBe(
      'https://api.vendor.example/api/v2/users/john%20doe@x/a%3Fb%23c?page=2',
    );
    expect(targetUrl('https://api.vendor.example', ['me'], '').toString()).toBe(
      'https://api.vendor.example/me',
    );
    expect(targetUrl(`${BASE}/`, ['me'], '').toString()).toBe(`${BASE}/me`);
  });
});

describe('the allow-list', () => {
  const config = {
    allow: [
      { methods: ['GET'], pathPrefix: '/users' },
      { methods: ['GET', 'POST'], pathPrefix: '/calls/' },
    ],
  };

  it('matches prefixes by segment', () => {
    expect(underPrefix('/users', '/users')).toBe(true);
    expect(underPrefix('/users/7', '/users')).toBe(true);
    expect(underPrefix('/users-admin', '/users')).toBe(false);
    expect(underPrefix('/calls', '/calls/')).toBe(false);
    expect(underPrefix('/calls/1', '/calls/')).toBe(true);
    expect(underPrefix('/anything', '/')).toBe(true);
  });

  it('needs both the method and the prefix of one entry', () => {
    expect(allowedBy(config, 'GET', displayPath(['users', '7']))).toBe(true);
    expect(allowedBy(config, 'POST', '/users/7')).toBe(false);
    expect(allowedBy(config, 'POST', '/calls/1')).toBe(true);
    expect(allowedBy(config, 'DELETE', '/calls/1')).toBe(false);
    expect(allowedBy(config, 'GET', '/admin')).toBe(false);
  });
});

describe('forwardQuery', () => {
  it('keeps the caller pairs as sent and puts the token last, replacing any pair of that name', () => {
    const auth = { query: 'access_token', value: 'tok/en+1' };
    expect(forwardQuery('a=1&access_token=mine&b=x%20y&access%5Ftoken=sneaky', auth)).toBe(
      'a=1&b=x%20y&access_token=tok%2Fen%2B1',
    );
    expect(forwardQuery('', auth)).toBe('access_token=tok%2Fen%2B1');
  });

  it('encodes what the query may not hold (a fragment sign, spaces, a bare percent)', () => {
    expect(forwardQuery('q=a b#c&p=100%&r=%41', { header: 'authorization', value: 't' })).toBe(
      'q=a%20b%23c&p=100%25&r=%41',
    );
  });

  it('refuses a query whose names are not valid percent-encoding', () => {
    expect(refusal(() => forwardQuery('%zz=1', { query: 't', value: 'v' }))).toEqual({
      status: 400,
      error: 'invalid_request',
    });
  });
});

describe('headers', () => {
  it('forwards only the allow-list and configured extras, never fields named in Connection', () => {
    const forwarded = forwardedRequestHeaders(
      {
        Accept: 'application/json',
        'Content-Type': 'application/json',
        Authorization: 'Bearer caller-jwt',
        Cookie: 'session=1',
        Host: 'evil.example',
        'Transfer-Encoding': 'chunked',
        'X-Forwarded-For': '1.2.3.4',
        Connection: 'x-secret, prefer',
        'X-Secret': 'hop',
        Prefer: 'return=minimal',
        'X-Vendor-Tenant': 'acme',
        'If-Match': '"v1"',
      },
      ['X-Vendor-Tenant', 'x-secret'],
    );
    expect(forwarded).toEqual({
      accept: 'application/json',
      'content-type': 'application/json',
      'if-match': '"v1"',
      'x-vendor-tenant': 'acme',
    });
  });

  it('refuses credentials, hop-by-hop and forwarding fields as configured extras', () => {
    for (const name of [
      'Authorization',
      'cookie',
      'Host',
      'Connection',
      'TE',
      'X-Forwarded-Host',
      'x-amz-date',
      'Proxy-Foo',
      'X-Tokenvend-Rejected',
      'bad name',
    ]) {
      expect({ name, ok: isForwardableHeader(name) }).toEqual({ name, ok: false });
    }
    expect(isForwardableHeader('X-Vendor-Tenant')).toBe(true);
  });

  it('drops cookies, hop-by-hop, framing and CORS fields from the answer', () => {
    const headers = new Headers({
      'content-type': 'application/json',
      'set-cookie': 'vendor=1',
      connection: 'x-hop',
      'x-hop': '1',
      'keep-alive': 'timeout=5',
      'content-encoding': 'gzip',
      'content-length': '10',
      'access-control-allow-origin': '*',
      'retry-after': '7',
      etag: '"v2"',
      location: 'https://api.vendor.example/api/v2/users/8',
      'x-ratelimit-remaining': '0',
    });
    expect(returnedResponseHeaders(headers)).toEqual({
      'content-type': 'application/json',
      'retry-after': '7',
      etag: '"v2"',
      location: 'https://api.vendor.example/api/v2/users/8',
      'x-ratelimit-remaining': '0',
    });
  });
});

describe('proxy config', () => {
  const template = {
    id: 'acme',
    name: 'Acme',
    endpoints: { authorize: 'https://id.acme.example/auth', token: 'https://id.acme.example/token' },
    grants: { authorization_code: { clientAuth: 'basic' } },
  };
  const load = (provider: object, proxy: unknown) =>
    loadDeployment(
      { integrations: { acme: { provider, proxy } } },
      { builtins: new Map(), source: 'test.json' },
    );
  const problem = (provider: object, proxy: unknown) => {
    try {
      load(provider, proxy);
    } catch (e) {
      return (e as Error).message;
    }
    return 'accepted';
  };
  const withApi = { ...template, api: { baseUrl: 'https://api.acme.example/v1' } };

  it('is validated at load, like the rest', () => {
    expect(
      load(withApi, { allow: [{ methods: ['GET'], pathPrefix: '/users/' }] }).integrations.get('acme')?.config
        .proxy,
    ).toEqual({ allow: [{ methods: ['GET'], pathPrefix: '/users/' }] });
    expect(problem(template, { allow: [{ methods: ['GET'], pathPrefix: '/' }] })).toMatch(
      /integrations\.acme\.proxy: provider acme names no api\.baseUrl/,
    );
    expect(problem(withApi, { allow: [] })).toMatch(/proxy\.allow/);
    expect(problem(withApi, { allow: [{ methods: ['TRACE'], pathPrefix: '/' }] })).toMatch(/methods/);
    for (const prefix of ['users', '/users/../admin', '//x', '/a%2fb', '/a\\b']) {
      expect(problem(withApi, { allow: [{ methods: ['GET'], pathPrefix: prefix }] })).toMatch(/pathPrefix/);
    }
    expect(
      problem(withApi, { allow: [{ methods: ['GET'], pathPrefix: '/' }], forwardHeaders: ['Cookie'] }),
    ).toMatch(/forwardHeaders/);
    expect(
      problem(withApi, { allow: [{ methods: ['GET'], pathPrefix: '/' }], maxRequestBytes: 5 * 1024 * 1024 }),
    ).toMatch(/maxRequestBytes/);
    expect(problem(withApi, { allow: [{ methods: ['GET'], pathPrefix: '/' }], extra: 1 })).toMatch(/extra/);
  });
});
