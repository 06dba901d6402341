/**
 * `npm start`: every route of the API on http://127.0.0.1:${PORT:-8787}, through the very same Lambda
 * handlers (HTTP requests become API Gateway v2 events), with embedded backends persisted under `.tokenvend/` (or `TOKENVEND_DATA`).
 * Local mode only: `POST /local/token` issues caller JWTs from a local issuer, `GET /local/jwks.json` serves its keys,
 * `GET /` is a small web console (functions/local/console/, no build step) with `GET /local/integrations` and
 * `GET /local/events` (the caller's own connection events) and `GET /local/audit` (the audit records of the
 * caller's connections and acts) for it.
 */
import { lstatSync, mkdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Context } from 'aws-lambda';
import { TokenvendError } from '../core/errors.js';
import { FUNCTIONS } from '../handlers/routes.js';
import { memoize } from '../handlers/runtime/app.js';
import { matchRoute, readBody, toEvent, writeResult } from './api-gateway-event.js';
import { HANDLER_FACTORIES, type HttpLambda } from './handlers.js';
import { DEFAULT_LOCAL_REFRESH_INTERVAL_MS, type LocalApp, startLocalApp } from './local-app.js';
import { localIssuerPath, localJwksSuffix } from './local-issuer.js';

export interface LocalServerOptions {
  /** 0 picks a free port (tests). */
  port?: number;
  /** The state folder; default `TOKENVEND_DATA`, else `<cwd>/.tokenvend`. */
  dataDir?: string;
  /**
   * Called once the port is open, before the app starts (requests meanwhile wait for it); start-up waits for a
   * returned promise (tests hold it there).
   */
  onListening?: ((url: string) => void | Promise<void>) | undefined;
  /** How long a request that arrives during start-up waits before its 503 (default 20 s). */
  startupWaitMs?: number | undefined;
  configFile?: string | undefined;
  cwd?: string;
  /** The scheduled refresh's interval in milliseconds (0: only on `local.scheduler.tick()`). */
  refreshIntervalMs?: number | undefined;
  /** No console line per connection event. */
  quiet?: boolean | undefined;
  /** The sandbox vendor's access-token lifetime in seconds (tests). */
  sandboxAccessTokenTtl?: number | undefined;
}

export interface LocalServer {
  url: string;
  local: LocalApp;
  /** The state folder in use (absolute). */
  dataDir: string;
  close(): Promise<void>;
}

/**
 * Larger than any handler accepts (the proxy's 4 MiB), so the handler's own limit (and its 413) decides below it;
 * API Gateway's HTTP API payload quota is 10 MB.
 */
const MAX_READ_BYTES = 10 * 1024 * 1024;

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

function unavailable(res: ServerResponse, description: string): void {
  if (res.headersSent) return;
  res.setHeader('retry-after', '1');
  sendJson(res, 503, { error: 'temporarily_unavailable', error_description: description });
}

function lambdaContext(): Context {
  return {
    functionName: 'tokenvend-local',
    awsRequestId: crypto.randomUUID(),
    getRemainingTimeInMillis: () => 30_000,
  } as Context;
}

/** Where a local connect flow can return to: `${localIssuerPath}/connected` (the quick start's return_to). */
export const LOCAL_RETURN_PATH = `${localIssuerPath}/connected`;

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * The page a local connect flow lands on: what a frontend's return page receives (the one-time claim code),
 * shown with the request that claims it, since the quick start has no frontend.
 */
function connectedPage(url: URL, base: string): string {
  const claim = escapeHtml(url.searchParams.get('claim') ?? '');
  const integration = escapeHtml(url.searchParams.get('integration') ?? '');
  const command = `curl -s -X POST ${base}/connect/${integration}/claim -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' -d '{"claim":"${claim}"}'`;
  return `<!doctype html><meta charset="utf-8"><title>tokenvend: ready to claim</title><body style="font-family:sans-serif;margin:3em;max-width:60em"><h1>Signed in at ${integration}</h1><p>The vendor's tokens are parked for 10 minutes. Your app claims them with the same user's JWT; only the user who started the flow can:</p><pre style="white-space:pre-wrap;background:#eee;padding:1em">${command}</pre><p>Claim code: <code id="claim">${claim}</code></p></body>`;
}

/** The console's files (functions/local/console/), served as they are: no build step. */
const CONSOLE_DIR = new URL('./console/', import.meta.url);
const CONSOLE_FILES: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  [`${localIssuerPath}/console/console.js`]: { file: 'console.js', type: 'text/javascript; charset=utf-8' },
  [`${localIssuerPath}/console/console.css`]: { file: 'console.css', type: 'text/css; charset=utf-8' },
};
/** No inline script or style; the page talks to this origin only. */
export const CONSOLE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; " +
  "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/** What the console lists: every integration, and whether `POST /connect` starts it (else SAML sign-in). */
function integrationList(local: LocalApp): unknown {
  return {
    integrations: [...local.app.flows.deployment.integrations.values()].map((integration) => ({
      id: integration.id,
      name: integration.provider.template.name ?? integration.id,
      connect: integration.provider.template.grants.authorization_code ? 'oauth' : 'saml',
    })),
  };
}

async function localRoute(
  local: LocalApp,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): Promise<boolean> {
  const { pathname } = url;
  const consoleFile = CONSOLE_FILES[pathname];
  if (consoleFile && (req.method === 'GET' || req.method === 'HEAD')) {
    res.writeHead(200, {
      'content-type': consoleFile.type,
      'cache-control': 'no-store',
      'content-security-policy': CONSOLE_CSP,
      'referrer-policy': 'no-referrer',
      'x-content-type-options': 'nosniff',
    });
    res.end(req.method === 'HEAD' ? undefined : readFileSync(new URL(consoleFile.file, CONSOLE_DIR)));
    return true;
  }
  if (pathname === '/favicon.ico') {
    res.writeHead(204, { 'cache-control': 'max-age=86400' });
    res.end();
    return true;
  }
  if (pathname === `${localIssuerPath}/integrations` && req.method === 'GET') {
    sendJson(res, 200, integrationList(local));
    return true;
  }
  if (pathname === `${localIssuerPath}/events` && req.method === 'GET') {
    // The caller's own connection events only, as the connection routes show only the caller's connections.
    const caller = await local.app.callers.verify(req.headers.authorization);
    sendJson(res, 200, { events: local.events.recent.filter((event) => event.subject === caller.subject) });
    return true;
  }
  if (pathname === `${localIssuerPath}/audit` && req.method === 'GET') {
    // The audit records about the caller's own connections or acts, newest first (the console's audit panel).
    const caller = await local.app.callers.verify(req.headers.authorization);
    const records = (await local.auditFile.read())
      .filter((record) => record.subject === caller.subject || record.actor === caller.subject)
      .slice(-100)
      .reverse();
    sendJson(res, 200, { records });
    return true;
  }
  if (pathname === LOCAL_RETURN_PATH && req.method === 'GET') {
    res.writeHead(200, {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
      'referrer-policy': 'no-referrer',
    });
    res.end(connectedPage(url, url.origin));
    return true;
  }
  if (pathname === `${localIssuerPath}${localJwksSuffix}` && req.method === 'GET') {
    sendJson(res, 200, local.issuer.jwks);
    return true;
  }
  if (pathname === `${localIssuerPath}/token` && req.method === 'POST') {
    const body = (await readBody(req, 16 * 1024)).toString('utf8');
    try {
      sendJson(res, 200, await local.issuer.issueToken(body));
    } catch (error) {
      const e = error instanceof TokenvendError ? error : undefined;
      sendJson(res, e?.status ?? 500, {
        error: e?.error ?? 'server_error',
        error_description: e?.expose ? e.message : 'the server could not complete the request',
      });
    }
    return true;
  }
  return false;
}

/** The state folder: `TOKENVEND_DATA` (relative to `cwd`) or `<cwd>/.tokenvend`. */
export function resolveDataDir(cwd: string, env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(cwd, env.TOKENVEND_DATA || '.tokenvend');
}

/** Creates the state folder (mode 0700), or throws one readable sentence saying why it cannot. */
export function prepareDataDir(dataDir: string): void {
  const hint = 'set TOKENVEND_DATA to a folder tokenvend can create and write';
  let link: string | undefined;
  try {
    if (lstatSync(dataDir).isSymbolicLink()) link = readlinkSync(dataDir);
  } catch {
    // absent: created below
  }
  if (link !== undefined) {
    try {
      statSync(dataDir);
    } catch {
      throw new Error(
        `the state folder ${dataDir} is a link to ${link}, which does not exist; create the target or ${hint}`,
      );
    }
  }
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    const why =
      code === 'EEXIST' || code === 'ENOTDIR'
        ? 'a file (not a folder) is in the way'
        : code === 'EACCES' || code === 'EPERM' || code === 'EROFS'
          ? 'permission denied'
          : code === 'ENOENT'
            ? 'a parent is a dangling link'
            : code;
    throw new Error(`cannot create the state folder ${dataDir} (${why}); ${hint}`);
  }
  if (!statSync(dataDir).isDirectory()) {
    throw new Error(`the state folder ${dataDir} is not a folder; ${hint}`);
  }
}

/** How long a request that arrives during start-up waits for the app before it gets a 503. */
const STARTUP_WAIT_MS = 20_000;

export async function startLocalServer(options: LocalServerOptions = {}): Promise<LocalServer> {
  const cwd = options.cwd ?? process.cwd();
  const dataDir = path.resolve(cwd, options.dataDir ?? resolveDataDir(cwd));
  prepareDataDir(dataDir);
  const server: Server = createServer();
  // Requests that arrive before the app is ready wait for it (or get a 503), never hang without a listener.
  let handle: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  let failed: string | undefined;
  const waiting = new Set<() => void>();
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (handle) return handle(req, res);
    if (failed) return unavailable(res, failed);
    const timer = setTimeout(() => {
      waiting.delete(go);
      unavailable(res, 'the local runtime is still starting; retry in a moment');
    }, options.startupWaitMs ?? STARTUP_WAIT_MS);
    const go = () => {
      clearTimeout(timer);
      if (handle) handle(req, res);
      else unavailable(res, failed ?? 'the local runtime is not running');
    };
    waiting.add(go);
  });
  const release = () => {
    for (const go of waiting) go();
    waiting.clear();
  };
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8787, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  let local: LocalApp;
  try {
    await options.onListening?.(url);
    local = await startLocalApp({
      baseUrl: url,
      dataDir,
      cwd,
      configFile: options.configFile,
      refreshIntervalMs: options.refreshIntervalMs,
      quiet: options.quiet,
      sandboxAccessTokenTtl: options.sandboxAccessTokenTtl,
    });
  } catch (error) {
    failed = 'the local runtime failed to start';
    release();
    server.close();
    server.closeAllConnections?.();
    throw error;
  }
  const getApp = memoize(async () => local.app);
  const routes = FUNCTIONS.flatMap((fn) => {
    const factory = HANDLER_FACTORIES[fn.entry];
    if (!factory) throw new Error(`no handler factory for ${fn.entry}`);
    const handler: HttpLambda = factory(getApp);
    return fn.routes.map((route) => ({ route, handler }));
  });

  handle = (req, res) => {
    const requestUrl = new URL(req.url ?? '/', url);
    (async () => {
      if (await localRoute(local, req, res, requestUrl)) return;
      // A greedy route sees the path as sent: URL parsing would resolve `..` and `%2e%2e` segments first, and the
      // proxy must see (and refuse) them.
      const rawPath = (req.url ?? '/').split('?', 1)[0] as string;
      for (const { route, handler } of routes) {
        const params = matchRoute(route.path, route.path.endsWith('+}') ? rawPath : requestUrl.pathname);
        if (!params) continue;
        if (req.method !== route.method && req.method !== 'OPTIONS') continue;
        const body = await readBody(req, MAX_READ_BYTES);
        const event = toEvent(req, requestUrl, route, params, body);
        writeResult(res, await handler(event, lambdaContext()));
        return;
      }
      sendJson(res, 404, { error: 'not_found', error_description: 'no such route' });
    })().catch((error: unknown) => {
      if (res.headersSent) return;
      if (error instanceof TokenvendError && error.expose) {
        sendJson(res, error.status, { error: error.error, error_description: error.message });
        return;
      }
      sendJson(res, 500, { error: 'server_error', error_description: 'local runtime failure' });
    });
  };
  release();

  return {
    url,
    local,
    dataDir,
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections?.();
      await local.close();
    },
  };
}

async function main(): Promise<void> {
  const port = Number(process.env.PORT ?? 8787);
  const interval = process.env.TOKENVEND_REFRESH_INTERVAL_MS;
  if (interval !== undefined && !/^\d{1,9}$/.test(interval)) {
    throw new Error('TOKENVEND_REFRESH_INTERVAL_MS must be a whole number of milliseconds (0 turns it off)');
  }
  const started = await startLocalServer({
    port,
    dataDir: resolveDataDir(process.cwd()),
    onListening: (url) => console.log(`tokenvend console: ${url}/`),
    configFile: process.env.TOKENVEND_CONFIG || undefined,
    refreshIntervalMs: interval ? Number(interval) : undefined,
  });
  const { url, local } = started;
  console.log(
    `  local runtime on ${url} (config: ${local.configSource}; data: ${started.dataDir}, TOKENVEND_DATA)`,
  );
  console.log(`  integrations: ${[...local.app.flows.deployment.integrations.keys()].join(', ')}`);
  console.log(
    `  scheduled refresh: every ${interval ?? DEFAULT_LOCAL_REFRESH_INTERVAL_MS} ms (TOKENVEND_REFRESH_INTERVAL_MS)`,
  );
  console.log(
    `  caller token: curl -s -X POST ${url}/local/token -H 'content-type: application/json' -d '{"sub":"alice"}'`,
  );
  const stop = () => {
    started.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((error: unknown) => {
    console.error(`tokenvend: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
}
