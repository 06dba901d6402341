/**
 * One end-to-end stack per test file: a real vendor (oidc-provider) behind a recording proxy, optionally a
 * test SAML IdP, and the local runtime (`startLocalServer`) on a free port with a temp data dir and config file.
 * Every call goes over HTTP to the local server, through the same handlers as in AWS.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type LocalServer, startLocalServer } from '../../../functions/local/server.js';
import { canary } from '../../support/leaks.js';
import { type OidcServer, SAML2_BEARER, startOidcServer } from '../../support/oidc-server.js';
import { generateSigningKey, TestIdp, type TestSigningKey } from '../../support/saml-idp.js';
import { startVendorSpy, type VendorSpy } from './vendor-spy.js';

/** The OAuth (authorization code) integration. */
export const OIDC = 'oidc';
/** The SAML ACS -> saml2-bearer integration with a Genesys-shaped inline template. */
export const SSO = 'genesys-sso';
export const ORG_NAME = 'acme-e2e';
export const IDP_ISSUER = 'https://idp.e2e.test/metadata';
export const SP_ENTITY_ID = 'https://tokenvend.e2e.test/sp';
export const RETURN_BASE = 'https://app.e2e.test/';
export const ALLOWED_ORIGIN = 'https://app.e2e.test';

export interface StackOptions {
  /** The vendor's access token lifetime (seconds). */
  accessTokenTtl?: number;
  /** Overrides merged into the oidc integration's template (e.g. a refresh policy). */
  templateOverrides?: object;
  /** Settings of the oidc integration itself besides provider and secret (e.g. `proxy`). */
  integrationSettings?: Record<string, unknown>;
  /** Adds the SAML integration and a test IdP. */
  saml?: boolean;
  /** The scheduled refresh's interval in ms; 0 (default) runs it only on `server.local.scheduler.tick()`. */
  refreshIntervalMs?: number;
  /** Extra allowed return URLs / CORS origins (e.g. a browser test's frontend). */
  returnUrls?: string[];
  corsOrigins?: string[];
  /** Extra integrations, given the vendor, the spy and the vendor client's credentials. */
  extraIntegrations?: (ctx: {
    vendor: OidcServer;
    spy: VendorSpy;
    secret: { client_id: string; client_secret: string };
  }) => Record<string, unknown>;
}

export interface HttpAnswer {
  status: number;
  headers: Headers;
  text: string;
  /** The body parsed as JSON, or undefined. */
  json: Record<string, unknown> | undefined;
}

export interface CallOptions {
  token?: string | undefined;
  headers?: Record<string, string>;
  json?: unknown;
  form?: Record<string, string>;
  /** A raw body (with `headers['content-type']`). */
  body?: string;
}

export interface Stack {
  vendor: OidcServer;
  spy: VendorSpy;
  server: LocalServer;
  /** The local server's base URL. */
  readonly url: string;
  dataDir: string;
  /** The vendor client's secret: a canary that must never appear in any output. */
  clientSecret: string;
  clientId: string;
  idp?: TestIdp | undefined;
  idpKey?: TestSigningKey | undefined;
  /** A caller JWT from the local issuer. */
  token(sub: string): Promise<string>;
  call(method: string, path: string, options?: CallOptions): Promise<HttpAnswer>;
  /** Stops the local server and starts it again on the same port with the same data dir and config. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A Genesys-shaped saml2-bearer vendor template (Basic client auth, `orgName`, the whole Response base64) whose
 * token endpoint is the spy at `spyUrl`.
 */
export function samlBearerProvider(id: string, spyUrl: string): Record<string, unknown> {
  return {
    id,
    name: 'Genesys-shaped SAML bearer vendor',
    variables: { orgName: { description: 'organization short name' } },
    endpoints: { token: `${spyUrl}/token` },
    grants: {
      saml2_bearer: {
        grantType: SAML2_BEARER,
        clientAuth: 'basic',
        params: { orgName: '${orgName}' },
        assertionFormat: 'response-base64',
        refreshable: false,
      },
    },
    response: { expiryFromJwt: false },
  };
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const clientId = 'tokenvend-e2e';
  const clientSecret = canary('client-secret');
  const vendor = await startOidcServer({
    accessTokenTtl: options.accessTokenTtl ?? 300,
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        // Native clients may use any loopback port (RFC 8252 §7.3): the local server's port is random.
        application_type: 'native',
        redirect_uris: [`http://127.0.0.1/oauth/${OIDC}/callback`],
        grant_types: ['authorization_code', 'refresh_token', SAML2_BEARER],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
        scope: 'openid profile email api',
      },
    ],
  });
  const spy = await startVendorSpy(vendor.issuer);
  const dataDir = mkdtempSync(join(tmpdir(), 'tokenvend-e2e-'));
  const configFile = join(dataDir, 'tokenvend.config.json');
  const secret = { client_id: clientId, client_secret: clientSecret };

  const integrations: Record<string, unknown> = {
    [OIDC]: {
      provider: vendor.template({
        endpoints: {
          token: `${spy.url}/token`,
          revoke: { url: `${spy.url}/token/revocation`, clientAuth: 'basic' },
        },
        ...options.templateOverrides,
      }),
      secret,
      ...options.integrationSettings,
    },
    ...options.extraIntegrations?.({ vendor, spy, secret }),
  };
  let idpKey: TestSigningKey | undefined;
  if (options.saml) {
    idpKey = generateSigningKey();
    integrations[SSO] = {
      provider: samlBearerProvider('genesys-like', spy.url),
      vars: { orgName: ORG_NAME },
      secret,
      saml: { idpCert: idpKey.cert, idpIssuer: IDP_ISSUER, spEntityId: SP_ENTITY_ID },
    };
  }
  writeFileSync(
    configFile,
    JSON.stringify({
      integrations,
      returnUrls: [RETURN_BASE, ...(options.returnUrls ?? [])],
      corsOrigins: [ALLOWED_ORIGIN, ...(options.corsOrigins ?? [])],
    }),
  );

  const local = { dataDir, configFile, cwd: dataDir, refreshIntervalMs: options.refreshIntervalMs ?? 0 };
  let server = await startLocalServer({ port: 0, quiet: true, ...local });
  const port = Number(new URL(server.url).port);
  const idp = idpKey
    ? new TestIdp({
        key: idpKey,
        issuer: IDP_ISSUER,
        audience: SP_ENTITY_ID,
        acsUrl: `${server.url}/saml/${SSO}/acs`,
      })
    : undefined;

  const stack: Stack = {
    vendor,
    spy,
    get server() {
      return server;
    },
    get url() {
      return server.url;
    },
    dataDir,
    clientSecret,
    clientId,
    idp,
    idpKey,
    async token(sub) {
      const answer = await stack.call('POST', '/local/token', { json: { sub } });
      const token = answer.json?.token;
      if (answer.status !== 200 || typeof token !== 'string')
        throw new Error(`no local token: ${answer.status}`);
      return token;
    },
    async call(method, path, o = {}) {
      const headers: Record<string, string> = { ...o.headers };
      if (o.token !== undefined) headers.authorization = `Bearer ${o.token}`;
      let body: string | undefined = o.body;
      if (o.json !== undefined) {
        headers['content-type'] = 'application/json';
        body = JSON.stringify(o.json);
      }
      if (o.form !== undefined) {
        headers['content-type'] = 'application/x-www-form-urlencoded';
        body = new URLSearchParams(o.form).toString();
      }
      const response = await fetch(`${server.url}${path}`, { method, headers, body, redirect: 'manual' });
      const text = await response.text();
      return { status: response.status, headers: response.headers, text, json: parseJson(text) };
    },
    async restart() {
      await server.close();
      server = await startLocalServer({ port, quiet: true, ...local });
    },
    async close() {
      await server.close();
      await spy.close();
      await vendor.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return stack;
}

/**
 * POST /connect, the vendor's (browserless) login as `sub`, the callback on the local server and, when it
 * redirected back with a claim code, the claim with `sub`'s JWT (which must succeed).
 */
export async function connect(
  stack: Stack,
  sub: string,
  returnTo: string = `${RETURN_BASE}done`,
): Promise<{ answer: HttpAnswer; callbackUrl: URL; claim?: HttpAnswer | undefined }> {
  const token = await stack.token(sub);
  const start = await stack.call('POST', `/connect/${OIDC}`, { token, json: { return_to: returnTo } });
  if (start.status !== 200) throw new Error(`connect failed: ${start.status} ${start.text}`);
  const callbackUrl = await stack.vendor.authorize(String(start.json?.authorize_url), sub);
  const answer = await stack.call('GET', `${callbackUrl.pathname}${callbackUrl.search}`);
  if (answer.status !== 302) return { answer, callbackUrl };
  const claim = await claimFrom(stack, answer, token);
  if (claim.status !== 200) throw new Error(`claim failed: ${claim.status} ${claim.text}`);
  return { answer, callbackUrl, claim };
}

/** The claim code and integration of a callback's redirect to the return URL (`?claim=...&integration=...`). */
export function claimOf(answer: HttpAnswer): { claim: string; integration: string } {
  const location = answer.headers.get('location');
  if (answer.status !== 302 || !location) throw new Error(`the callback did not redirect: ${answer.status}`);
  const url = new URL(location);
  return {
    claim: String(url.searchParams.get('claim')),
    integration: String(url.searchParams.get('integration')),
  };
}

/** `POST /connect/{integration}/claim` with the claim code of a callback's redirect and a caller JWT. */
export function claimFrom(stack: Stack, answer: HttpAnswer, token: string): Promise<HttpAnswer> {
  const { claim, integration } = claimOf(answer);
  return stack.call('POST', `/connect/${integration}/claim`, { token, json: { claim } });
}

/** What a subject can observe of its stored state: its connection list and the token a vend gives. */
export interface SubjectView {
  connections: unknown;
  vendStatus: number;
  accessToken: unknown;
}

export async function observe(stack: Stack, subjects: readonly string[], integration = OIDC) {
  const out: Record<string, SubjectView> = {};
  for (const sub of subjects) {
    const token = await stack.token(sub);
    const list = await stack.call('GET', '/connections', { token });
    const vend = await stack.call('GET', `/vend/${integration}`, { token });
    out[sub] = { connections: list.json, vendStatus: vend.status, accessToken: vend.json?.access_token };
  }
  return out;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
