/**
 * Every built-in template through the engine end to end: a real HTTP server on 127.0.0.1 answers as each
 * vendor's token endpoint, and the engine's injected fetch rewrites the vendor origin to it.
 */
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadBuiltinProviders } from '../../../functions/adapters/provider-files.js';
import { buildVerifyRequest, verifyOutcome } from '../../../functions/core/flows/credentials.js';
import { createPkce, usesPkce } from '../../../functions/core/oauth/authorize.js';
import type { ClientSecret } from '../../../functions/core/oauth/client-auth.js';
import { requestToken, staticTokenSet } from '../../../functions/core/oauth/engine.js';
import type { FetchLike } from '../../../functions/core/oauth/http.js';
import { send } from '../../../functions/core/oauth/send.js';
import type { GrantInput } from '../../../functions/core/oauth/token-request.js';
import type { ResolvedProvider } from '../../../functions/core/provider/resolve.js';
import { CREDENTIAL_GRANTS, type TokenGrantName } from '../../../functions/core/provider/schema.js';
import { cases, type GrantCase } from './cases.js';
import { basicFor, basicOf, builtin, confidentialClient, NOW, REDIRECT_URI, tok } from './support.js';

interface Seen {
  method: string;
  /** `/<vendor host>/<vendor path>?<query>` as the loopback server received it. */
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

let server: Server;
let port: number;
const seen: Seen[] = [];
let answer: { status: number; body: unknown } = { status: 500, body: {} };

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      res.writeHead(answer.status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify(answer.body));
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

/** The seam the engine offers: its fetch. The vendor's host moves into the path of the loopback URL. */
const loopbackFetch: FetchLike = (input, init) => {
  const url = new URL(input);
  return fetch(`http://127.0.0.1:${port}/${url.host}${url.pathname}${url.search}`, init);
};

async function inputFor(grant: TokenGrantName, provider: ResolvedProvider, client: ClientSecret) {
  switch (grant) {
    case 'authorization_code': {
      const pkce = usesPkce(provider, client) ? await createPkce() : undefined;
      const input: GrantInput = {
        grant,
        code: tok('code'),
        redirectUri: REDIRECT_URI,
        codeVerifier: pkce?.verifier,
      };
      const own: Record<string, string> = { code: input.code, redirect_uri: REDIRECT_URI };
      if (pkce) own.code_verifier = pkce.verifier;
      return { input, own };
    }
    case 'refresh_token': {
      const refreshToken = tok('rt');
      return { input: { grant, refreshToken } as GrantInput, own: { refresh_token: refreshToken } };
    }
    case 'client_credentials':
      return { input: { grant } as GrantInput, own: {} };
    case 'saml2_bearer': {
      const samlResponse = Buffer.from(`<samlp:Response ID="${tok('id')}"/>`).toString('base64');
      return { input: { grant, samlResponse } as GrantInput, own: { assertion: samlResponse } };
    }
    case 'jwt_bearer': {
      const assertion = tok('jwt');
      const source = provider.template.grants.jwt_bearer?.assertion;
      // A template may take the assertion from the secret (RingCentral's console-issued JWT credential).
      if (source?.source === 'secret') {
        return { input: { grant } as GrantInput, own: { assertion }, secret: { [source.field]: assertion } };
      }
      return { input: { grant, assertion } as GrantInput, own: { assertion } };
    }
    case 'password': {
      // '=' must arrive percent-encoded (NICE CXone access key secrets end in '=').
      const username = tok('user');
      const password = `${tok('pw')}==`;
      return { input: { grant, username, password } as GrantInput, own: { username, password } };
    }
  }
}

function paramsSeen(request: Seen, encoding: GrantCase['encoding']): Record<string, string> {
  if (encoding === 'json') return JSON.parse(request.body) as Record<string, string>;
  if (encoding === 'query') return Object.fromEntries(new URL(request.url, 'http://x').searchParams);
  return Object.fromEntries(new URLSearchParams(request.body));
}

const rows = Object.entries(cases).flatMap(([id, c]) =>
  Object.entries(c.grants).map(([grant, g]) => [id, grant as TokenGrantName, g] as const),
);

describe('every built-in provider through the engine', () => {
  it('has an end-to-end case for every built-in template and every token grant it declares', async () => {
    const templates = await loadBuiltinProviders();
    expect(Object.keys(cases).sort()).toEqual([...templates.keys()].sort());
    for (const [id, template] of templates) {
      const declared = Object.keys(template.grants).filter(
        (g) => !(CREDENTIAL_GRANTS as readonly string[]).includes(g) && template.grants[g as TokenGrantName],
      );
      expect({ id, grants: Object.keys(cases[id]?.grants ?? {}).sort() }).toEqual({
        id,
        grants: declared.sort(),
      });
      expect({ id, static: cases[id]?.static !== undefined }).toEqual({
        id,
        static: template.grants.static !== undefined,
      });
      expect({ id, userCredentials: cases[id]?.userCredentials !== undefined }).toEqual({
        id,
        userCredentials: template.grants.user_credentials !== undefined,
      });
    }
  });

  it.each(rows)('%s %s yields a TokenSet and sends the vendor its wire shape', async (id, grant, g) => {
    const provider = await builtin(id, cases[id]?.vars);
    const base = confidentialClient();
    const made = await inputFor(grant, provider, base);
    const { input, own } = made;
    const client = { ...base, ...('secret' in made ? made.secret : {}) };
    const body = g.response();
    answer = { status: 200, body };
    seen.length = 0;

    const tokens = await requestToken(provider, input, client, { fetch: loopbackFetch, now: () => NOW });

    expect(seen).toHaveLength(1);
    const request = seen[0] as Seen;
    const vendor = new URL(g.url);
    expect(request.method).toBe('POST');
    expect(new URL(request.url, 'http://x').pathname).toBe(`/${vendor.host}${vendor.pathname}`);
    expect(request.headers.accept).toBe('application/json');
    const params = paramsSeen(request, g.encoding);
    expect(params).toMatchObject({ grant_type: g.grantType, ...own, ...g.params });
    if (g.encoding === 'query') {
      expect(request.body).toBe('');
    } else {
      expect(request.headers['content-type']).toBe(
        g.encoding === 'json' ? 'application/json' : 'application/x-www-form-urlencoded',
      );
    }
    if (grant === 'password') expect(request.body).toContain('%3D%3D');
    if (!('code_verifier' in own)) expect(params).not.toHaveProperty('code_verifier');
    if (g.auth === 'basic') {
      expect(request.headers.authorization).toBe(basicFor(client));
      expect(params).not.toHaveProperty('client_secret');
    } else {
      expect(request.headers.authorization).toBeUndefined();
      expect(params).toMatchObject({ client_id: client.client_id, client_secret: client.client_secret });
    }

    expect(tokens.accessToken).toBe(body.access_token);
    expect(tokens.tokenType).toBe('Bearer');
    expect(tokens.issuedAt).toBe(NOW);
    expect(tokens.expiresAt).toBe(g.expiresIn === undefined ? undefined : NOW + g.expiresIn);
    expect(tokens.refreshToken).toBe(body.refresh_token);
    expect(tokens.refreshExpiresAt).toBe(
      g.refreshExpiresIn === undefined ? undefined : NOW + g.refreshExpiresIn,
    );
  });

  const statics = Object.entries(cases).filter(([, c]) => c.static);
  it.each(statics)('%s static credentials become a Basic token set', async (id, c) => {
    const provider = await builtin(id, c.vars);
    const { secret, username, password } = c.static!();
    const tokens = staticTokenSet(provider, secret, NOW);
    expect(`${tokens.tokenType} ${tokens.accessToken}`).toBe(basicOf(username, password));
    expect(tokens.expiresAt).toBeUndefined();
  });

  const perUser = Object.entries(cases).filter(([, c]) => c.userCredentials);
  it.each(perUser)(
    '%s checks a user’s own credentials with one Basic GET of its verify URL',
    async (id, c) => {
      const provider = await builtin(id, c.vars);
      const integration = { id, provider, config: {} } as never;
      const spec = provider.template.grants.user_credentials!;
      const { username, verifyUrl } = c.userCredentials!;
      expect(new RegExp(`^(?:${spec.username.pattern})$`, 'u').test(username)).toBe(true);
      const password = tok('pw');
      const request = buildVerifyRequest(integration, spec, { username, password });
      expect(request.url).toBe(verifyUrl);
      for (const [status, refused] of [
        [200, undefined],
        [401, 'invalid_grant'],
      ] as const) {
        answer = { status, body: {} };
        seen.length = 0;
        const response = await send(request, { fetch: loopbackFetch, timeoutMs: 5_000 });
        expect(
          (verifyOutcome(integration, response, NOW * 1000) as { error?: string } | undefined)?.error,
        ).toBe(refused);
        const vendor = new URL(verifyUrl);
        expect(seen.map((r) => [r.method, r.url, r.headers.authorization, r.body])).toEqual([
          ['GET', `/${vendor.host}${vendor.pathname}`, basicOf(username, password), ''],
        ]);
      }
    },
  );
});
