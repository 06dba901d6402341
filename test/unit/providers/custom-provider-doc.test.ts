/**
 * docs/custom-providers.md is true: its template (the fenced YAML block that starts with `id:`) loads with the
 * real loader, binds through the deployment config it shows, and its code and refresh grants run through the real
 * engine against a loopback server that behaves as the guide's vendor documents: the code comes back as
 * `auth_code`, travels in the `X-Authorization-Code` header, the credentials and an API key travel in a JSON
 * body, the refresh token is `extended_token`, the expiry is only the `exp` of a signed JWT (RFC 7519 §4.1.4),
 * and API calls carry `X-Harbor-Token`. The error messages the guide lists are the loader's own.
 */
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { generateKeyPair, SignJWT } from 'jose';
import { loadDeployment } from '../../../functions/core/config/deployment.js';
import {
  buildAuthorizationUrl,
  validateAuthorizationResponse,
} from '../../../functions/core/oauth/authorize.js';
import type { ClientSecret } from '../../../functions/core/oauth/client-auth.js';
import { authorizationFor, requestToken } from '../../../functions/core/oauth/engine.js';
import type { FetchLike } from '../../../functions/core/oauth/http.js';
import { loadProviderTemplateText } from '../../../functions/core/provider/load.js';
import { resolveProvider } from '../../../functions/core/provider/resolve.js';
import type { ProviderTemplate } from '../../../functions/core/provider/schema.js';
import { NOW, REDIRECT_URI, tok } from './support.js';

const guide = readFileSync(
  fileURLToPath(new URL('../../../docs/custom-providers.md', import.meta.url)),
  'utf8',
);

/** The bodies of the guide's fenced blocks of one language. */
function fenced(language: string): string[] {
  return [...guide.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)]
    .filter((m) => m[1] === language)
    .map((m) => m[2] as string);
}

const templateBlocks = fenced('yaml').filter((block) => /^id: /m.test(block));
const templateText = templateBlocks[0] as string;
const load = (text: string): ProviderTemplate => loadProviderTemplateText(text, 'harbor-voice.yaml');

interface Seen {
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

let server: Server;
let port: number;
const seen: Seen[] = [];
let signingKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
const client: ClientSecret = { client_id: tok('cid'), client_secret: tok('sec'), api_key: tok('key') };
/** What the stand-in vendor issued and will accept once. */
const issued = { code: '', extendedToken: '', exp: 0 };

async function accessToken(exp: number): Promise<string> {
  return new SignJWT({ scope: 'calls.read calls.control' })
    .setProtectedHeader({ alg: 'RS256', kid: 'harbor-1' })
    .setSubject('agent-42')
    .setIssuedAt(NOW)
    .setExpirationTime(exp)
    .sign(signingKey);
}

/** Harbor Voice's token endpoint as the guide documents it; anything else is a 400. */
async function vendorAnswer(request: Seen): Promise<[number, unknown]> {
  const refuse = (why: string): [number, unknown] => [400, { error: 'invalid_request', reason: why }];
  if (request.url !== '/login.eu.harborvoice.example/oauth2/token') return refuse('wrong endpoint');
  if (request.headers['content-type'] !== 'application/json') return refuse('not JSON');
  const body = JSON.parse(request.body) as Record<string, unknown>;
  if (body.client_id !== client.client_id || body.client_secret !== client.client_secret) {
    return [401, { error: 'invalid_client' }];
  }
  if (body.api_key !== client.api_key) return refuse('api_key');
  if (request.headers.authorization !== undefined) return refuse('credentials belong in the body');
  if (body.grant_type === 'authorization_code') {
    if ('code' in body || 'auth_code' in body) return refuse('the code belongs in the header');
    if (request.headers['x-authorization-code'] !== issued.code) return [400, { error: 'invalid_grant' }];
    if (body.redirect_uri !== REDIRECT_URI) return [400, { error: 'invalid_grant' }];
    issued.code = '';
  } else if (body.grant_type === 'refresh_token') {
    if (body.extended_token !== issued.extendedToken || !issued.extendedToken) {
      return [400, { error: 'invalid_grant' }];
    }
  } else {
    return [400, { error: 'unsupported_grant_type' }];
  }
  issued.extendedToken = tok('ext');
  issued.exp += 900;
  // No expires_in: the expiry is only the JWT's exp claim.
  return [
    200,
    {
      access_token: await accessToken(issued.exp),
      extended_token: issued.extendedToken,
      token_type: 'bearer',
    },
  ];
}

beforeAll(async () => {
  ({ privateKey: signingKey } = await generateKeyPair('RS256'));
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const request = { url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString() };
      seen.push(request);
      vendorAnswer(request)
        .catch((): [number, unknown] => [400, { error: 'invalid_request' }])
        .then(([status, body]) => {
          res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
          res.end(JSON.stringify(body));
        });
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server.close();
  await once(server, 'close');
});

/** The engine's fetch seam: the vendor's host moves into the path of the loopback URL. */
const loopbackFetch: FetchLike = (input, init) => {
  const url = new URL(input);
  return fetch(`http://127.0.0.1:${port}/${url.host}${url.pathname}${url.search}`, init);
};

/** The guide's deployment config, optionally with other `vars` for its one integration. */
function deploymentConfig(vars?: Record<string, string>): {
  integrations: Record<string, { vars: unknown }>;
} {
  const [config] = fenced('json').filter((block) => block.includes('"harbor-voice"'));
  if (!config) throw new Error('the guide shows no deployment config for harbor-voice');
  const parsed = JSON.parse(config) as { integrations: Record<string, { vars: unknown }> };
  if (vars) for (const entry of Object.values(parsed.integrations)) entry.vars = vars;
  return parsed;
}

function bind(template: ProviderTemplate, vars?: Record<string, string>) {
  return loadDeployment(deploymentConfig(vars), {
    builtins: new Map([[template.id, template]]),
    source: 'prod.json',
  });
}

/** The integration as the guide's deployment config binds it. */
function integration(template: ProviderTemplate) {
  const [only, ...others] = [...bind(template).integrations.values()];
  expect(others).toEqual([]);
  return only!;
}

/** The message `fn` throws (failing the test when it throws none). */
function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected an error');
}

describe('docs/custom-providers.md', () => {
  it('has one template, identical to the parts the steps show', () => {
    expect(templateBlocks).toHaveLength(1);
    // Each step's snippet is a piece of the whole template, so the steps cannot drift from it.
    const steps = fenced('yaml').filter((block) => !/^id: /m.test(block));
    expect(steps.length).toBeGreaterThanOrEqual(6);
    for (const step of steps) expect(templateText).toContain(step.trimEnd());
  });

  it('loads with the real loader and binds through the deployment config it shows', () => {
    const template = load(templateText);
    expect(template.id).toBe('harbor-voice');
    const { id, provider } = integration(template);
    expect(id).toBe('harbor-support');
    expect(provider.endpoints.token).toBe('https://login.eu.harborvoice.example/oauth2/token');
    const login = buildAuthorizationUrl(provider, { client, redirectUri: REDIRECT_URI, state: 'st' });
    expect(`${login.origin}${login.pathname}`).toBe('https://login.eu.harborvoice.example/oauth2/authorize');
    expect(login.searchParams.get('tenant')).toBe('acme-support');
    expect(login.searchParams.get('scope')).toBe('calls.read calls.control');
  });

  it('runs the code and refresh grants as the vendor documents them', async () => {
    const { provider } = integration(load(templateText));
    issued.code = tok('code');
    issued.exp = NOW;
    seen.length = 0;

    // The redirect back names the code auth_code; a plain `code` parameter is not the code.
    const redirect = new URLSearchParams({ auth_code: issued.code, code: 'not-the-code', state: 'st' });
    const { code } = validateAuthorizationResponse(provider, redirect, 'st');
    expect(code).toBe(issued.code);

    const deps = { fetch: loopbackFetch, now: () => NOW };
    const first = await requestToken(
      provider,
      { grant: 'authorization_code', code, redirectUri: REDIRECT_URI },
      client,
      deps,
    );
    expect(seen).toHaveLength(1);
    expect(seen[0]?.headers['x-authorization-code']).toBe(code);
    expect(JSON.parse(seen[0]?.body ?? '')).toEqual({
      grant_type: 'authorization_code',
      redirect_uri: REDIRECT_URI,
      client_id: client.client_id,
      client_secret: client.client_secret,
      api_key: client.api_key,
    });
    expect(first).toMatchObject({
      tokenType: 'Bearer',
      refreshToken: issued.extendedToken,
      issuedAt: NOW,
      expiresAt: NOW + 900,
    });
    expect(authorizationFor(provider, first)).toEqual({ header: 'X-Harbor-Token', value: first.accessToken });

    const refreshed = await requestToken(
      provider,
      { grant: 'refresh_token', refreshToken: first.refreshToken as string },
      client,
      { fetch: loopbackFetch, now: () => NOW + 800 },
    );
    expect(JSON.parse(seen[1]?.body ?? '')).toMatchObject({
      grant_type: 'refresh_token',
      extended_token: first.refreshToken,
    });
    expect(refreshed.refreshToken).toBe(issued.extendedToken);
    expect(refreshed.refreshToken).not.toBe(first.refreshToken);
    expect(refreshed.expiresAt).toBe(NOW + 1800);
    expect(authorizationFor(provider, refreshed)).toEqual({
      header: 'X-Harbor-Token',
      value: refreshed.accessToken,
    });
  });

  it('the stand-in vendor refuses a template that sends the code the standard way', async () => {
    const standard = templateText.replace(
      "code: { in: header, name: X-Authorization-Code, value: '${code}' }",
      'code: { in: body, name: code }',
    );
    expect(standard).not.toBe(templateText);
    const provider = resolveProvider(load(standard), { tenant: 'acme-support' });
    issued.code = tok('code');
    await expect(
      requestToken(
        provider,
        { grant: 'authorization_code', code: issued.code, redirectUri: REDIRECT_URI },
        client,
        { fetch: loopbackFetch, now: () => NOW },
      ),
    ).rejects.toThrow();
  });

  it('lists the messages the loader really gives', () => {
    const mutations: Array<[string, string]> = [
      ['response:\n', 'reponse:\n'],
      ['    enum: [eu, us]\n    default: eu\n', ''],
      ["token: 'https://login", "token: 'http://login"],
      [
        "code: { in: header, name: X-Authorization-Code, value: '${code}' }",
        "code: { in: header, value: '${code}' }",
      ],
      ['    bodyEncoding: json\n', '    bodyEncoding: JSON\n'],
      [
        "      api_key: '${secret.api_key}'\n  refresh_token:",
        "      api_key: '${secret.api_key}'\n      code: '${code}'\n  refresh_token:",
      ],
      ["  value: '${access_token}'", "  value: '${secret.api_key}'"],
      ['    required: true\n', '    required: true\n    default: acme\n'],
    ];
    for (const [from, to] of mutations) {
      expect(templateText).toContain(from);
      expect(guide).toContain(messageOf(() => load(templateText.replace(from, to))));
    }
    const template = load(templateText);
    const bindings: Record<string, string>[] = [
      {},
      { tenant: 'acme-support', region: 'apac' },
      { tenant: 'Acme Support' },
      { tenant: 'acme', orgName: 'x' },
    ];
    for (const vars of bindings) {
      expect(guide).toContain(messageOf(() => bind(template, vars)));
    }
    // A deployment that does not have the template: the start of the line the guide shows.
    const unknown = messageOf(() =>
      loadDeployment(deploymentConfig(), { builtins: new Map(), source: 'prod.json' }),
    );
    expect(guide).toContain(unknown.replace(/\(built-in: .*$/, ''));
  });
});
