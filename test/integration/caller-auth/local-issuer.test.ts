/**
 * The local-mode issuer end to end: its tokens verify with the production verifier through its JWKS
 * served over real loopback HTTP; a restart with the same state directory keeps the key.
 */
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { CallerAuthError, createCallerVerifier } from '../../../functions/adapters/caller-auth/index.js';
import { ConfigError, InvalidRequestError } from '../../../functions/core/errors.js';
import {
  createLocalIssuer,
  type LocalIssuer,
  localAudience,
  localIssuerPath,
  localKeyFileName,
} from '../../../functions/local/local-issuer.js';
import { rejectionOf } from './support.js';

let dir: string;
let server: Server;
let issuerUrl: string;
/** What the local server would serve at the issuer's JWKS URI; swapped on "restart". */
let current: LocalIssuer | undefined;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tokenvend-local-issuer-'));
  server = createServer((req, res) => {
    if (current && req.method === 'GET' && req.url === new URL(current.jwksUri).pathname) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(current.jwks));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuerUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}${localIssuerPath}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server?.close(() => resolve()));
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('local issuer', () => {
  it('issues RS256 tokens with kid, 1 h lifetime, that createCallerVerifier accepts via its JWKS', async () => {
    current = await createLocalIssuer({ dir, issuer: issuerUrl });
    const { token } = await current.issueToken({ sub: 'alice' });

    const header = decodeProtectedHeader(token);
    const claims = decodeJwt(token);
    expect(header).toMatchObject({ alg: 'RS256', kid: current.kid });
    expect(claims).toMatchObject({ iss: issuerUrl, aud: localAudience, sub: 'alice' });
    expect((claims.exp as number) - (claims.iat as number)).toBe(3600);

    const verifier = createCallerVerifier(
      { callers: [current.callerConfig] },
      { allowInsecureLoopbackJwks: true },
    );
    const identity = await verifier.verify(`Bearer ${token}`);
    expect(identity).toMatchObject({ subject: 'user:local:alice', claim: 'alice', issuer: issuerUrl });
  });

  it('keeps its key across restarts with the same directory (0600 key file)', async () => {
    const first = await createLocalIssuer({ dir, issuer: issuerUrl });
    const { token } = await first.issueToken('{"sub":"bob"}');
    const restarted = await createLocalIssuer({ dir, issuer: issuerUrl });
    current = restarted;
    expect(restarted.kid).toBe(first.kid);
    expect(restarted.jwks).toEqual(first.jwks);
    expect(restarted.jwks.keys[0]).not.toHaveProperty('d');

    const verifier = createCallerVerifier(
      { callers: [restarted.callerConfig] },
      { allowInsecureLoopbackJwks: true },
    );
    expect((await verifier.verify(`Bearer ${token}`)).claim).toBe('bob');
    expect((await stat(join(dir, localKeyFileName))).mode & 0o777).toBe(0o600);
  });

  it('a different directory means a different key, whose tokens the first issuer config refuses', async () => {
    const otherDir = await mkdtemp(join(tmpdir(), 'tokenvend-local-issuer-'));
    try {
      current = await createLocalIssuer({ dir, issuer: issuerUrl });
      const other = await createLocalIssuer({ dir: otherDir, issuer: issuerUrl });
      expect(other.kid).not.toBe(current.kid);
      const verifier = createCallerVerifier(
        { callers: [current.callerConfig] },
        { allowInsecureLoopbackJwks: true },
      );
      const { token } = await other.issueToken({ sub: 'mallory' });
      const error = await rejectionOf(() => verifier.verify(`Bearer ${token}`));
      expect(error).toBeInstanceOf(CallerAuthError);
      expect((error as CallerAuthError).reason).toBe('unknown_kid');
    } finally {
      await rm(otherDir, { recursive: true, force: true });
    }
  });

  it('two issuers starting at once on an empty directory agree on one key', async () => {
    const fresh = await mkdtemp(join(tmpdir(), 'tokenvend-local-issuer-'));
    try {
      const issuers = await Promise.all(
        Array.from({ length: 4 }, () => createLocalIssuer({ dir: join(fresh, 'state'), issuer: issuerUrl })),
      );
      expect(new Set(issuers.map((i) => i.kid)).size).toBe(1);
    } finally {
      await rm(fresh, { recursive: true, force: true });
    }
  });

  it.each([
    [undefined, 'the body must be a JSON object'],
    ['not json', 'the body must be JSON'],
    [[], 'the body must be a JSON object'],
    [{}, 'sub is required'],
    [{ sub: 42 }, 'sub is required'],
    [{ sub: '' }, 'sub must not be empty'],
    [{ sub: 'x'.repeat(257) }, 'at most 256'],
    [{ sub: 'a\nb' }, 'control characters'],
    [{ sub: 'alice', admin: true }, 'unknown field admin'],
  ])('rejects body %j with a clear 400', async (body, message) => {
    const issuer = await createLocalIssuer({ dir, issuer: issuerUrl });
    const error = await rejectionOf(() => issuer.issueToken(body));
    expect(error).toBeInstanceOf(InvalidRequestError);
    expect(error).toMatchObject({ status: 400, error: 'invalid_request' });
    expect(error.message).toContain(message);
  });

  it('accepts a 256-character subject', async () => {
    const issuer = await createLocalIssuer({ dir, issuer: issuerUrl });
    const { token } = await issuer.issueToken({ sub: 's'.repeat(256) });
    expect(decodeJwt(token).sub).toHaveLength(256);
  });

  it('refuses a corrupt key file with a ConfigError naming the file, not its contents', async () => {
    const broken = await mkdtemp(join(tmpdir(), 'tokenvend-local-issuer-'));
    try {
      await writeFile(join(broken, localKeyFileName), '{"kty":"RSA","n":"secret-material"}');
      const error = await rejectionOf(() => createLocalIssuer({ dir: broken, issuer: issuerUrl }));
      expect(error).toBeInstanceOf(ConfigError);
      expect(error.message).toContain(localKeyFileName);
      expect(error.message).not.toContain('secret-material');
      expect(await readFile(join(broken, localKeyFileName), 'utf8')).toContain('secret-material');
    } finally {
      await rm(broken, { recursive: true, force: true });
    }
  });
});
