/**
 * Verifies the caller's user JWT (`Authorization: Bearer ...`) and names its subject. All cryptography and
 * claim checks are aws-jwt-verify's (`JwtVerifier` over every generic trusted issuer, `CognitoJwtVerifier` over
 * the Cognito ones: signature, `alg` against the JWK, `iss`, `aud` or `token_use` + `client_id`, `exp`, `nbf`,
 * kid lookup with its penalty box); this file only chooses the trusted caller entry, adds the checks the library
 * leaves out (no `crit` header, an `exp` must exist, the subject claim), builds the stored subject
 * `user:<namespace>:<claim>` and turns every failure into a typed 401, or a 503 when the issuer's keys cannot be
 * fetched.
 */
import { CognitoJwtVerifier } from 'aws-jwt-verify/cognito-verifier';
import {
  CognitoJwtInvalidClientIdError,
  CognitoJwtInvalidTokenUseError,
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
import { ConfigError, TokenvendError } from '../../core/errors.js';
import { callerNamespace, isUsableSubject, userSubject } from '../../core/subject.js';
import { bearerToken } from './bearer.js';
import type { TrustedCaller } from './config.js';
import { CallerAuthError, CallerAuthUnavailableError } from './errors.js';
import { GuardedJwksFetcher } from './jwks-fetcher.js';
import { issuersOf, userPoolIdOf } from './trusted-callers.js';
import { type VerifiedCacheOptions, VerifiedTokenCache } from './verified-cache.js';

export { isUsableSubject, maxSubjectLength } from '../../core/subject.js';

export interface CallerIdentity {
  /**
   * The stored subject `user:<namespace>:<claim>` (core/subject.ts): the only key the user routes read, write or
   * delete connections under. No claim value can name a service connection or another namespace's user.
   */
  readonly subject: string;
  /** The end user, from the configured subject claim of a verified token. */
  readonly claim: string;
  /** The caller entry's namespace (its `namespace`, else its issuer). */
  readonly namespace: string;
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
 * Builds the verifier once per container from callers already validated by `parseCallerAuthConfig` (https
 * JWKS, known algorithms, unique issuers): at synth for the Lambdas, by `createCallerVerifier` (config.ts)
 * everywhere else. This module loads no schema library.
 */
export function createCheckedCallerVerifier(
  callers: readonly TrustedCaller[],
  options: CallerVerifierOptions = {},
): CallerVerifier {
  const allowInsecure = options.allowInsecureLoopbackJwks ?? false;
  for (const caller of callers) {
    if (caller.jwksUri !== undefined && new URL(caller.jwksUri).protocol !== 'https:' && !allowInsecure) {
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
  const generic = callers.filter((c) => c.tokenUse === undefined);
  const cognito = callers.filter((c) => c.tokenUse !== undefined);
  // Issuer, audience, tokenUse and clientId are always set (the schema has no null and requires them): no check
  // is ever switched off. (CognitoJwtVerifier itself passes `audience: null` to its base and checks `clientId`.)
  const genericVerifier = generic.length
    ? JwtVerifier.create(
        generic.map((c) => ({
          issuer: c.issuer,
          audience: c.audience as string | string[],
          jwksUri: c.jwksUri as string,
        })),
        { jwksCache },
      )
    : undefined;
  const cognitoVerifier = cognito.length
    ? CognitoJwtVerifier.create(
        cognito.map((c) => ({
          userPoolId: userPoolIdOf(c),
          tokenUse: c.tokenUse as 'id' | 'access',
          clientId: c.clientId as string | string[],
        })),
        { jwksCache },
      )
    : undefined;
  const byIssuer = new Map<string, IssuerEntry>();
  for (const caller of callers) {
    for (const issuer of issuersOf(caller)) {
      const verifier = (caller.tokenUse === undefined ? genericVerifier : cognitoVerifier) as {
        verify(token: string): Promise<JwtPayload>;
      };
      byIssuer.set(issuer, {
        caller,
        namespace: callerNamespace(caller),
        // The URI the library fetches: a Cognito pool's follows from the `iss` format it is reached by.
        jwksUri:
          caller.tokenUse === undefined ? (caller.jwksUri as string) : `${issuer}/.well-known/jwks.json`,
        verify: (token) => verifier.verify(token),
      });
    }
  }

  const unavailable = (cause: unknown) => new CallerAuthUnavailableError(penaltySeconds, cause);
  const verified = new VerifiedTokenCache<CallerIdentity>(options.verifiedCache);

  return {
    async verify(authorizationHeader) {
      const token = bearerToken(authorizationHeader);
      const cached = verified.get(token);
      if (cached) return cached;
      const entry = selectCaller(token, byIssuer);
      let payload: JwtPayload;
      try {
        payload = await entry.verify(token);
      } catch (e) {
        throw translate(e, fetcher.lastFetchFailed(entry.jwksUri), unavailable);
      }
      const identity = identify(token, payload, entry);
      verified.set(token, identity, payload.exp as number);
      return identity;
    },
    async hydrate() {
      const results = await Promise.allSettled(
        [genericVerifier, cognitoVerifier].flatMap((v) => (v ? [v.hydrate()] : [])),
      );
      // As the library's own hydrate: fail only when nothing could be fetched.
      const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed.length === results.length && failed[0]) throw unavailable(failed[0].reason);
    },
  };
}

interface IssuerEntry {
  caller: TrustedCaller;
  namespace: string;
  jwksUri: string;
  verify(token: string): Promise<JwtPayload>;
}

/**
 * Picks the trusted caller entry by the (still unverified) `iss`; the library then verifies it again. A token
 * with a `crit` header is refused here: it asks the recipient to understand extensions, and we understand none
 * (https://www.rfc-editor.org/rfc/rfc7515#section-4.1.11); aws-jwt-verify ignores `crit`.
 */
function selectCaller(token: string, byIssuer: ReadonlyMap<string, IssuerEntry>): IssuerEntry {
  let iss: unknown;
  try {
    const { header, payload } = decomposeUnverifiedJwt(token);
    if (Object.hasOwn(header, 'crit')) throw new CallerAuthError('unsupported_critical_header');
    iss = payload.iss;
  } catch (e) {
    if (e instanceof CallerAuthError) throw e;
    throw new CallerAuthError('malformed', e);
  }
  const entry = typeof iss === 'string' ? byIssuer.get(iss) : undefined;
  if (!entry) throw new CallerAuthError('untrusted_issuer');
  return entry;
}

/** Checks the library leaves to us, on a token whose signature and standard claims are already verified. */
function identify(token: string, payload: JwtPayload, entry: IssuerEntry): CallerIdentity {
  const { caller } = entry;
  // A token without exp would be valid forever; aws-jwt-verify checks exp only when present.
  if (typeof payload.exp !== 'number') throw new CallerAuthError('missing_exp');
  if (caller.allowedAlgorithms) {
    const alg = decomposeUnverifiedJwt(token).header.alg;
    if (alg === undefined || !(caller.allowedAlgorithms as readonly string[]).includes(alg)) {
      throw new CallerAuthError('unsupported_algorithm');
    }
  }
  const claim = payload[caller.subjectClaim];
  if (!isUsableSubject(claim)) throw new CallerAuthError('invalid_subject');
  let subject: string;
  try {
    subject = userSubject(entry.namespace, claim);
  } catch (e) {
    throw new CallerAuthError('invalid_subject', e);
  }
  return { subject, claim, namespace: entry.namespace, issuer: caller.issuer, claims: payload };
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
  if (e instanceof CognitoJwtInvalidTokenUseError) return new CallerAuthError('wrong_token_use', e);
  if (e instanceof CognitoJwtInvalidClientIdError) return new CallerAuthError('wrong_client_id', e);
  if (e instanceof JwtInvalidSignatureAlgorithmError) return new CallerAuthError('unsupported_algorithm', e);
  if (e instanceof JwtInvalidSignatureError) return new CallerAuthError('invalid_signature', e);
  if (e instanceof JwkValidationError || e instanceof JwkInvalidUseError || e instanceof JwkInvalidKtyError)
    return new CallerAuthError('unusable_key', e);
  if (e instanceof JwtInvalidClaimError) return new CallerAuthError('invalid_claims', e);
  if (e instanceof JwtParseError) return new CallerAuthError('malformed', e);
  // Anything else (a key the crypto layer rejects, an exotic header) still means "not verified": fail closed.
  return new CallerAuthError('malformed', e);
}
