/**
 * The local-mode stand-in for a frontend's identity provider: `POST /local/token {"sub": "alice"}` answers
 * `{"token": "<JWT>"}`, an RS256 user JWT that the normal caller verifier accepts through the issuer's JWKS.
 * The key pair is generated on first start and kept in the state directory (`.tokenvend/`), so tokens and
 * configurations survive restarts. Never used in AWS: there, callers bring tokens from their real IdP.
 */
import { randomUUID } from 'node:crypto';
import { link, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type JWK, SignJWT } from 'jose';
import { z } from 'zod';
import { isUsableSubject, maxSubjectLength } from '../adapters/caller-auth/verifier.js';
import { ConfigError, InvalidRequestError } from '../core/errors.js';
import { LOCAL_NAMESPACE } from '../core/subject.js';

export const localAudience = 'tokenvend-local';
export const localTokenTtlSeconds = 3600;
/** Path of the issuer below the local server's origin: issuer `http://127.0.0.1:<port>/local`. */
export const localIssuerPath = '/local';
/** Where the local server serves {@link LocalIssuer.jwks}, relative to the issuer. */
export const localJwksSuffix = '/jwks.json';
export const localKeyFileName = 'local-issuer-key.json';

const alg = 'RS256';

export interface LocalIssuerOptions {
  /** State directory; the private key lives in `<dir>/local-issuer-key.json` (mode 0600). */
  dir: string;
  /** `iss` of the tokens, e.g. `http://127.0.0.1:3000/local`. */
  issuer: string;
  audience?: string;
  ttlSeconds?: number;
}

export interface LocalIssuer {
  readonly issuer: string;
  readonly audience: string;
  readonly jwksUri: string;
  readonly kid: string;
  /** The public key set to serve at {@link LocalIssuer.jwksUri}. */
  readonly jwks: { keys: JWK[] };
  /**
   * The trusted-caller entry for the local deployment's `callers`. Its namespace is `local` (not the issuer,
   * which names the port), so stored subjects `user:local:<sub>` survive a change of port, and SAML connections
   * of a config without callers (default `subjectNamespace`) are vendable with local tokens.
   */
  readonly callerConfig: { issuer: string; audience: string; jwksUri: string; namespace: string };
  /** Handles the body of `POST /local/token` (parsed or raw JSON); bad bodies reject with {@link InvalidRequestError}. */
  issueToken(body: unknown): Promise<{ token: string }>;
}

const tokenRequestSchema = z.strictObject({
  sub: z
    .string({ error: 'sub must be a string' })
    .min(1, 'sub must not be empty')
    .max(maxSubjectLength, `sub must be at most ${maxSubjectLength} characters`)
    .refine(isUsableSubject, 'sub must not contain control characters or surrounding spaces'),
});

export async function createLocalIssuer(options: LocalIssuerOptions): Promise<LocalIssuer> {
  const audience = options.audience ?? localAudience;
  const ttlSeconds = options.ttlSeconds ?? localTokenTtlSeconds;
  const privateJwk = await loadOrCreateKey(options.dir);
  const kid = privateJwk.kid as string;
  const privateKey = await importJWK(privateJwk, alg);
  const publicJwk: JWK = { kty: 'RSA', n: privateJwk.n, e: privateJwk.e, kid, alg, use: 'sig' };
  const jwksUri = `${options.issuer}${localJwksSuffix}`;

  return {
    issuer: options.issuer,
    audience,
    jwksUri,
    kid,
    jwks: { keys: [publicJwk] },
    callerConfig: { issuer: options.issuer, audience, jwksUri, namespace: LOCAL_NAMESPACE },
    async issueToken(body) {
      const { sub } = parseTokenRequest(body);
      const now = Math.floor(Date.now() / 1000);
      const token = await new SignJWT({})
        .setProtectedHeader({ alg, kid, typ: 'JWT' })
        .setIssuer(options.issuer)
        .setAudience(audience)
        .setSubject(sub)
        .setIssuedAt(now)
        .setNotBefore(now)
        .setExpirationTime(now + ttlSeconds)
        .setJti(randomUUID())
        .sign(privateKey);
      return { token };
    },
  };
}

function parseTokenRequest(body: unknown): { sub: string } {
  let value = body;
  if (typeof body === 'string' || body instanceof Uint8Array) {
    try {
      value = JSON.parse(typeof body === 'string' ? body : Buffer.from(body).toString('utf8'));
    } catch (e) {
      throw new InvalidRequestError('the body must be JSON: {"sub": "<user>"}', { cause: e });
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidRequestError('the body must be a JSON object: {"sub": "<user>"}');
  }
  const parsed = tokenRequestSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const message =
    issue?.code === 'unrecognized_keys'
      ? `unknown field ${issue.keys.join(', ')} (only sub is accepted)`
      : issue?.path.length === 0 || issue?.code === 'invalid_type'
        ? 'sub is required and must be a string'
        : (issue?.message ?? 'invalid body');
  throw new InvalidRequestError(message, { cause: parsed.error });
}

/** Reads the persisted key, or generates and persists one. */
async function loadOrCreateKey(dir: string): Promise<JWK> {
  const file = join(dir, localKeyFileName);
  const existing = await readKeyFile(file);
  if (existing) return existing;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const { privateKey } = await generateKeyPair(alg, { extractable: true, modulusLength: 2048 });
  const jwk = await exportJWK(privateKey);
  jwk.kid = await calculateJwkThumbprint({ kty: 'RSA', n: jwk.n, e: jwk.e });
  jwk.alg = alg;
  // Written aside and published with link(): atomic, and it fails if another process got there first, so
  // a concurrent reader never sees a half-written file and every process ends up with the same key.
  const temp = `${file}.${randomUUID()}.tmp`;
  try {
    await writeFile(temp, `${JSON.stringify(jwk)}\n`, { flag: 'wx', mode: 0o600 });
    await link(temp, file);
    return jwk;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw new ConfigError(`local issuer: cannot write ${file}`, e);
    }
    const winner = await readKeyFile(file);
    if (!winner) throw new ConfigError(`local issuer: ${file} vanished while starting`);
    return winner;
  } finally {
    await rm(temp, { force: true });
  }
}

async function readKeyFile(file: string): Promise<JWK | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ConfigError(`local issuer: cannot read ${file}`, e);
  }
  let jwk: JWK;
  try {
    jwk = JSON.parse(text) as JWK;
  } catch {
    throw new ConfigError(`local issuer: ${file} is not JSON; delete it to generate a new key`);
  }
  const complete =
    jwk.kty === 'RSA' && [jwk.n, jwk.e, jwk.d, jwk.kid].every((v) => typeof v === 'string' && v.length > 0);
  if (!complete) {
    throw new ConfigError(`local issuer: ${file} is not an RSA private JWK; delete it to generate a new key`);
  }
  return jwk;
}
