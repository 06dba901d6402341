/**
 * Verifies the caller's user JWT (`Authorization: Bearer ...`) and names its subject. All cryptography and
 * claim checks are aws-jwt-verify's (`JwtVerifier` over every trusted issuer, signature, `alg` against the
 * JWK, `iss`, `aud`, `exp`, `nbf`, kid lookup with its penalty box); this file only chooses the trusted
 * caller entry, adds the checks the library leaves optional (an `exp` must exist, the subject claim) and
 * turns every failure into a typed 401, or a 503 when the issuer's keys cannot be fetched.
 */
import {
  FetchError,
  JwkInvalidKtyError,
  JwkInvalidUseError,
  JwksValidationError,
  JwkValidationError,
  JwtExpiredError,
  JwtInvalidAudienceError,
  JwtInvalidClaimError,
  JwtInvalidIssuerError,
  JwtInvalidSignatureAlgorithmError,
  JwtInvalidSignatureError,
  JwtNotBeforeError,
  JwtParseError,
  JwtWithoutValidKidError,
  KidNotFoundInJwksError,
  WaitPeriodNotYetEndedJwkError,
} from 'aws-jwt-verify/error';
import type { Fetcher } from 'aws-jwt-verify/https';
import { SimpleJwksCache, SimplePenaltyBox } from 'aws-jwt-verify/jwk';
import { decomposeUnverifiedJwt } from 'aws-jwt-verify/jwt';
import type { JwtPayload } from 'aws-jwt-verify/jwt-model';
import { JwtVerifier } from 'aws-jwt-verify/jwt-verifier';
import type { CallerConfig } from '../../core/config/schema.js';
import { ConfigError, TokenvendError } from '../../core/errors.js';
import { bearerToken } from './bearer.js';
import { type CallerAuthConfigInput, parseCallerAuthConfig, type TrustedCaller } from './config.js';
import { CallerAuthError, CallerAuthUnavailableError } from './errors.js';
import { GuardedJwksFetcher } from './jwks-fetcher.js';
import { type VerifiedCacheOptions, VerifiedTokenCache } from './verified-cache.js';

/** Longest subject accepted; it becomes part of storage keys. */
export const maxSubjectLength = 256;

export interface CallerIdentity {
  /** The end user, from the configured subject claim of a verified token. */
  readonly subject: string;
  /** The trusted issuer that signed the token. */
  readonly issuer: string;
  readonly claims: Readonly<JwtPayload>;
}

export interface CallerVerifier {
  /** Verifies `Authorization` header value; rejects with {@link CallerAuthError} or {@link CallerAuthUnavailableError}. */
  verify(authorizationHeader: string | undefined): Promise<CallerIdentity>;
  /** Fetches every issuer's JWKS now (cold start), so the first request does not pay for it. */
  hydrate(): Promise<void>;
}

export interface CallerVerifierOptions {
  /** Replaces the JWKS transport (tests, local mode serving its JWKS in-process). */
  jwksFetcher?: Fetcher;
  /** Local mode and tests only: accept `http://127.0.0.1` / `http://[::1]` JWKS URIs. */
  allowInsecureLoopbackJwks?: boolean;
  /** How long a JWKS URI is not fetched again after an unknown kid or a failed fetch (library default 10). */
  jwksPenaltySeconds?: number;
  /** Cache of verified tokens (see verified-cache.ts); `{ maxEntries: 0 }` turns it off. */
  verifiedCache?: VerifiedCacheOptions;
}

/**
 * Builds the verifier once per container. `config` is the deployment's `callers` section (validated again
 * here, stricter than the deployment schema: https JWKS, known algorithms, unique issuers).
 */
export function createCallerVerifier(
  config: CallerAuthConfigInput | { callers: readonly CallerConfig[] },
  options: CallerVerifierOptions = {},
): CallerVerifier {
  const { callers } = parseCallerAuthConfig(config);
  const allowInsecure = options.allowInsecureLoopbackJwks ?? false;
  for (const caller of callers) {
    if (new URL(caller.jwksUri).protocol !== 'https:' && !allowInsecure) {
      throw new ConfigError(`callers: jwksUri of issuer ${caller.issuer} must use https outside local mode`);
    }
  }
  const penaltySeconds = options.jwksPenaltySeconds ?? 10;
  const penaltyBox = new SimplePenaltyBox({ waitSeconds: penaltySeconds });
  const fetcher = new GuardedJwksFetcher({
    penaltyBox,
    allowInsecureLoopback: allowInsecure,
    inner: options.jwksFetcher,
  });
  const jwksCache = new SimpleJwksCache({ fetcher, penaltyBox });
  // Issuer and audience are always strings (the schema has no null): no check is ever switched off.
  const verifier = JwtVerifier.create(
    callers.map((c) => ({ issuer: c.issuer, audience: c.audience, jwksUri: c.jwksUri })),
    { jwksCache },
  );
  const byIssuer = new Map(callers.map((c) => [c.issuer, c]));

  const unavailable = (cause: unknown) => new CallerAuthUnavailableError(penaltySeconds, cause);
  const verified = new VerifiedTokenCache<CallerIdentity>(options.verifiedCache);

  return {
    async verify(authorizationHeader) {
      const token = bearerToken(authorizationHeader);
      const cached = verified.get(token);
      if (cached) return cached;
      const caller = selectCaller(token, byIssuer);
      let payload: JwtPayload;
      try {
        payload = await verifier.verify(token);
      } catch (e) {
        throw translate(e, fetcher.lastFetchFailed(caller.jwksUri), unavailable);
      }
      const identity = identify(token, payload, caller);
      verified.set(token, identity, payload.exp as number);
      return identity;
    },
    async hydrate() {
      try {
        await verifier.hydrate();
      } catch (e) {
        throw unavailable(e);
      }
    },
  };
}

/** Picks the trusted caller entry by the (still unverified) `iss`; the library then verifies it again. */
function selectCaller(token: string, byIssuer: ReadonlyMap<string, TrustedCaller>): TrustedCaller {
  let iss: unknown;
  try {
    iss = decomposeUnverifiedJwt(token).payload.iss;
  } catch (e) {
    throw new CallerAuthError('malformed', e);
  }
  const caller = typeof iss === 'string' ? byIssuer.get(iss) : undefined;
  if (!caller) throw new CallerAuthError('untrusted_issuer');
  return caller;
}

/** Checks the library leaves to us, on a token whose signature and standard claims are already verified. */
function identify(token: string, payload: JwtPayload, caller: TrustedCaller): CallerIdentity {
  // A token without exp would be valid forever; aws-jwt-verify checks exp only when present.
  if (typeof payload.exp !== 'number') throw new CallerAuthError('missing_exp');
  if (caller.allowedAlgorithms) {
    const alg = decomposeUnverifiedJwt(token).header.alg;
    if (alg === undefined || !(caller.allowedAlgorithms as readonly string[]).includes(alg)) {
      throw new CallerAuthError('unsupported_algorithm');
    }
  }
  const subject = payload[caller.subjectClaim];
  if (!isUsableSubject(subject)) throw new CallerAuthError('invalid_subject');
  return { subject, issuer: caller.issuer, claims: payload };
}

export function isUsableSubject(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    value.length > 0 &&
    value.length <= maxSubjectLength &&
    value.isWellFormed() &&
    value.trim() === value &&
    !/\p{Cc}/u.test(value)
  );
}

function translate(
  e: unknown,
  jwksFailing: boolean,
  unavailable: (cause: unknown) => CallerAuthUnavailableError,
): TokenvendError {
  if (e instanceof TokenvendError) return e;
  if (e instanceof FetchError || e instanceof JwksValidationError) return unavailable(e);
  // The penalty box refuses to fetch: after a failed fetch that means the keys are unavailable, after a
  // successful fetch that lacked the kid it means the kid is unknown.
  if (e instanceof WaitPeriodNotYetEndedJwkError)
    return jwksFailing ? unavailable(e) : new CallerAuthError('unknown_kid', e);
  if (e instanceof KidNotFoundInJwksError) return new CallerAuthError('unknown_kid', e);
  if (e instanceof JwtWithoutValidKidError) return new CallerAuthError('missing_kid', e);
  if (e instanceof JwtExpiredError) return new CallerAuthError('expired', e);
  if (e instanceof JwtNotBeforeError) return new CallerAuthError('not_yet_valid', e);
  if (e instanceof JwtInvalidIssuerError) return new CallerAuthError('wrong_issuer', e);
  if (e instanceof JwtInvalidAudienceError) return new CallerAuthError('wrong_audience', e);
  if (e instanceof JwtInvalidSignatureAlgorithmError) return new CallerAuthError('unsupported_algorithm', e);
  if (e instanceof JwtInvalidSignatureError) return new CallerAuthError('invalid_signature', e);
  if (e instanceof JwkValidationError || e instanceof JwkInvalidUseError || e instanceof JwkInvalidKtyError)
    return new CallerAuthError('unusable_key', e);
  if (e instanceof JwtInvalidClaimError) return new CallerAuthError('invalid_claims', e);
  if (e instanceof JwtParseError) return new CallerAuthError('malformed', e);
  // Anything else (a key the crypto layer rejects, an exotic header) still means "not verified": fail closed.
  return new CallerAuthError('malformed', e);
}
