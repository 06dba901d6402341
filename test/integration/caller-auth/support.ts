/**
 * Test support for caller authentication: throwaway signing keys (jose), JWT builders (including the
 * hostile ones a library like jose refuses to produce) and a real node:http JWKS server on 127.0.0.1 that
 * counts how often it is asked.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type CryptoKey,
  exportJWK,
  exportSPKI,
  generateKeyPair,
  type JWK,
  type JWTPayload,
  SignJWT,
} from 'jose';

export interface TestKey {
  alg: 'RS256' | 'ES256';
  kid: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  /** The public JWK as a JWKS would publish it. */
  jwk: JWK;
}

export async function makeKey(
  alg: 'RS256' | 'ES256' = 'RS256',
  options: { jwkAlg?: boolean } = {},
): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const kid = `k-${randomUUID()}`;
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid, use: 'sig' };
  if (options.jwkAlg ?? true) jwk.alg = alg;
  return { alg, kid, privateKey, publicKey, jwk };
}

export const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/** A well-formed token signed by `key`; `kid: null` leaves the kid out of the header. */
export async function signToken(
  key: TestKey,
  claims: JWTPayload,
  options: { kid?: string | null } = {},
): Promise<string> {
  const kid = options.kid === undefined ? key.kid : options.kid;
  const header = kid === null ? { alg: key.alg, typ: 'JWT' } : { alg: key.alg, kid, typ: 'JWT' };
  return new SignJWT(claims).setProtectedHeader(header).sign(key.privateKey);
}

export function claimsFor(issuer: string, audience: string, extra: JWTPayload = {}): JWTPayload {
  const now = nowSeconds();
  return { iss: issuer, aud: audience, sub: 'alice', iat: now, exp: now + 300, ...extra };
}

const b64url = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/** `alg: none`, no signature: https://www.rfc-editor.org/rfc/rfc7519#section-6 */
export function unsignedToken(claims: JWTPayload, kid: string, signature = ''): string {
  return `${b64url({ alg: 'none', kid, typ: 'JWT' })}.${b64url(claims)}.${signature}`;
}

/** The classic key-confusion forgery: HMAC-SHA256 keyed with the RSA public key's PEM. */
export async function hs256WithPublicKey(key: TestKey, claims: JWTPayload): Promise<string> {
  const pem = await exportSPKI(key.publicKey);
  const input = `${b64url({ alg: 'HS256', kid: key.kid, typ: 'JWT' })}.${b64url(claims)}`;
  return `${input}.${createHmac('sha256', pem).update(input).digest('base64url')}`;
}

export type JwksMode = 'ok' | 'error' | 'garbage' | 'hang';

export interface JwksServer {
  readonly jwksUri: string;
  /** GET requests received so far. */
  readonly fetches: number;
  mode: JwksMode;
  keys: JWK[];
  close(): Promise<void>;
}

/** A real JWKS endpoint on an ephemeral 127.0.0.1 port. */
export async function startJwksServer(keys: JWK[], path = '/.well-known/jwks.json'): Promise<JwksServer> {
  let fetches = 0;
  const state = { mode: 'ok' as JwksMode, keys };
  const server = createServer((req, res) => {
    if (req.url !== path) {
      res.writeHead(404).end();
      return;
    }
    fetches += 1;
    if (state.mode === 'hang') return;
    if (state.mode === 'error') {
      res.writeHead(500, { 'content-type': 'text/plain' }).end('down');
      return;
    }
    const body = state.mode === 'garbage' ? '<html>maintenance</html>' : JSON.stringify({ keys: state.keys });
    res.writeHead(200, { 'content-type': 'application/json' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    jwksUri: `http://127.0.0.1:${port}${path}`,
    get fetches() {
      return fetches;
    },
    get mode() {
      return state.mode;
    },
    set mode(m: JwksMode) {
      state.mode = m;
    },
    get keys() {
      return state.keys;
    },
    set keys(k: JWK[]) {
      state.keys = k;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((e) => (e ? reject(e) : resolve()));
      }),
  };
}

/** A loopback URL on which nothing listens (a port that was just free). */
export async function deadJwksUri(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}/.well-known/jwks.json`;
}

/** Runs `fn`, expecting a rejection; returns the error. */
export async function rejectionOf(fn: () => Promise<unknown>): Promise<Error> {
  try {
    await fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}
