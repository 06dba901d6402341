/**
 * `npm start` as a process: `TOKENVEND_DATA` moves the state folder (two runtimes side by side), a state
 * folder that cannot be created gets one readable line, and a request sent while the runtime is still
 * starting gets an answer instead of hanging.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { prepareDataDir, resolveDataDir, startLocalServer } from '../../functions/local/server.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const TSX = path.join(ROOT, 'node_modules/.bin/tsx');
const SERVER = path.join(ROOT, 'functions/local/server.ts');

let dir: string;
const children: ChildProcess[] = [];

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'tokenvend-runtime-'));
});

afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
});

interface Run {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

function run(env: Record<string, string>): Run {
  const child = spawn(TSX, [SERVER], {
    cwd: dir,
    env: { ...process.env, PORT: '0', TOKENVEND_REFRESH_INTERVAL_MS: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout?.on('data', (chunk) => {
    out += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    err += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, stdout: () => out, stderr: () => err, exited };
}

async function until<T>(probe: () => T | undefined, what: string, ms = 25_000): Promise<T> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const value = probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function stop(r: Run): Promise<void> {
  r.child.kill('SIGTERM');
  await r.exited;
}

describe('the state folder', () => {
  it('defaults to ./.tokenvend and follows TOKENVEND_DATA', () => {
    expect(resolveDataDir('/srv/app', {})).toBe('/srv/app/.tokenvend');
    expect(resolveDataDir('/srv/app', { TOKENVEND_DATA: 'state/a' })).toBe('/srv/app/state/a');
    expect(resolveDataDir('/srv/app', { TOKENVEND_DATA: '/var/tv' })).toBe('/var/tv');
  });

  it('names why a state folder cannot be created, without a raw errno', () => {
    const dangling = path.join(dir, 'dangling');
    symlinkSync(path.join(dir, 'gone', 'away'), dangling);
    expect(() => prepareDataDir(dangling)).toThrow(/is a link to .*gone\/away, which does not exist/);
    const file = path.join(dir, 'a-file');
    writeFileSync(file, 'x');
    expect(() => prepareDataDir(path.join(file, 'state'))).toThrow(/cannot create the state folder .*a file/);
    expect(() => prepareDataDir(path.join(dangling, 'state'))).toThrow(/cannot create the state folder/);
    const ok = path.join(dir, 'fine', 'state');
    prepareDataDir(ok);
    expect(existsSync(ok)).toBe(true);
  });
});

describe('npm start', () => {
  it('runs two instances side by side, each with its own TOKENVEND_DATA, printing the console URL first', async () => {
    const a = run({ TOKENVEND_DATA: path.join(dir, 'a') });
    const b = run({ TOKENVEND_DATA: 'b' });
    try {
      const urls = await Promise.all(
        [a, b].map((r) =>
          until(
            () => /^tokenvend console: (http:\/\/127\.0\.0\.1:\d+)\/\n/.exec(r.stdout())?.[1],
            'console URL',
          ),
        ),
      );
      expect(urls[0]).not.toBe(urls[1]);
      for (const url of urls) {
        const health = await fetch(`${url}/health`, { signal: AbortSignal.timeout(25_000) });
        expect(health.status).toBe(200);
      }
      await until(
        () => (/scheduled refresh/.test(a.stdout() + b.stdout()) ? true : undefined),
        'start-up lines',
      );
      expect(a.stdout()).toContain(`data: ${path.join(dir, 'a')}`);
      expect(b.stdout()).toContain(`data: ${path.join(dir, 'b')}`);
      const keyA = readFileSync(path.join(dir, 'a', 'token-key'));
      const keyB = readFileSync(path.join(dir, 'b', 'token-key'));
      expect(keyA.equals(keyB)).toBe(false);
      expect(existsSync(path.join(dir, '.tokenvend'))).toBe(false);
      // A caller token from one runtime's issuer is not one the other trusts.
      const { token } = (await (
        await fetch(`${urls[0]}/local/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ sub: 'alice' }),
        })
      ).json()) as { token: string };
      const own = await fetch(`${urls[0]}/connections`, { headers: { authorization: `Bearer ${token}` } });
      const other = await fetch(`${urls[1]}/connections`, { headers: { authorization: `Bearer ${token}` } });
      expect(own.status).toBe(200);
      expect(other.status).toBe(401);
    } finally {
      await Promise.all([stop(a), stop(b)]);
    }
  }, 60_000);

  it('stops with one clear line when the state folder is a dangling link', async () => {
    const link = path.join(dir, 'dangling-start');
    symlinkSync(path.join(dir, 'nowhere'), link);
    const r = run({ TOKENVEND_DATA: link });
    expect(await r.exited).toBe(1);
    // Runtime warnings of the node version aside (oidc-provider, the AWS SDK), tokenvend says one thing.
    const lines = r
      .stderr()
      .split('\n')
      .filter((line) => line.startsWith('tokenvend'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^tokenvend: the state folder .* is a link to .*nowhere, which does not exist/);
    expect(r.stderr()).not.toContain('ENOENT');
    expect(r.stdout()).toBe('');
  }, 30_000);
});

describe('a request during start-up', () => {
  it('is answered once the runtime is ready (a /health poll sent as soon as the port opens)', async () => {
    const cwd = path.join(dir, 'startup');
    mkdirSync(cwd);
    let early: Promise<Response> | undefined;
    const server = await startLocalServer({
      port: 0,
      cwd,
      quiet: true,
      refreshIntervalMs: 0,
      onListening: (url) => {
        early = fetch(`${url}/health`, { signal: AbortSignal.timeout(15_000) });
      },
    });
    try {
      expect(server.dataDir).toBe(path.join(cwd, '.tokenvend'));
      const response = await early;
      expect(response?.status).toBe(200);
    } finally {
      await server.close();
    }
  });

  it('gets a 503 when start-up takes too long, and when it fails', async () => {
    const cwd = path.join(dir, 'startup-slow');
    mkdirSync(cwd);
    writeFileSync(path.join(cwd, 'broken.json'), '{ not json');
    let base = '';
    let early: Promise<Response> | undefined;
    let go = () => {};
    const gate = new Promise<void>((resolve) => {
      go = resolve;
    });
    const starting = startLocalServer({
      port: 0,
      cwd,
      quiet: true,
      refreshIntervalMs: 0,
      configFile: 'broken.json',
      startupWaitMs: 300,
      onListening: (url) => {
        base = url;
        early = fetch(`${url}/health`, { signal: AbortSignal.timeout(15_000) });
        return gate; // start-up is held here until the test lets it go on
      },
    });
    const failed = expect(starting).rejects.toThrow(/not valid JSON/);
    const slow = await until(() => early, 'the port to open');
    expect(slow?.status).toBe(503);
    expect(slow?.headers.get('retry-after')).toBe('1');
    expect(await slow?.json()).toEqual({
      error: 'temporarily_unavailable',
      error_description: 'the local runtime is still starting; retry in a moment',
    });
    // One more request waits while start-up goes on and fails: it gets a 503 too, not a hang.
    const waiting = fetch(`${base}/health`, { signal: AbortSignal.timeout(15_000) });
    await new Promise((resolve) => setTimeout(resolve, 100));
    go();
    await failed;
    const late = await waiting;
    expect(late.status).toBe(503);
    expect(await late.json()).toEqual({
      error: 'temporarily_unavailable',
      error_description: 'the local runtime failed to start',
    });
  });
});
