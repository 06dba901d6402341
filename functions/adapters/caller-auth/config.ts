/**
 * Which callers tokenvend trusts: one entry per identity provider whose user JWTs may call the HTTP API.
 * Every field that aws-jwt-verify would accept as `null` ("don't check") is required here, so a deployment
 * cannot switch off the issuer or audience check by omission: a generic caller names `audience`, a Cognito
 * caller (`tokenUse`) names `clientId` (aws-jwt-verify's CognitoJwtVerifier checks `token_use`, and `aud` of ID
 * tokens or `client_id` of access tokens, against it).
 */
import { z } from 'zod';
import { type CallerConfig, checkCallerShape } from '../../core/config/schema.js';
import { ConfigError } from '../../core/errors.js';
import { firstZodProblem } from '../../core/provider/load.js';
import { isUsableNamespace } from '../../core/subject.js';
import {
  type CallerAlgorithm,
  callerAlgorithms,
  issuersOf,
  loopbackHosts,
  userPoolIdOf,
} from './trusted-callers.js';
import { type CallerVerifier, type CallerVerifierOptions, createCheckedCallerVerifier } from './verifier.js';

// The request path's helpers live in trusted-callers.ts (no zod there); re-exported for existing importers.
export { type CallerAlgorithm, callerAlgorithms, issuersOf, loopbackHosts, userPoolIdOf };

const claimValue = z.string().min(1).max(2048);

const oneOrMoreClaimValues = z.union([claimValue, z.array(claimValue).min(1)]);

export const trustedCallerSchema = z
  .strictObject({
    /** Exact `iss` value of the caller's tokens (no trailing-slash normalisation: IdPs differ). */
    issuer: claimValue,
    /** The `aud` the token must name; with a list, naming one of them is enough. Not with `tokenUse`. */
    audience: oneOrMoreClaimValues.optional(),
    /** Required, except for Cognito callers (`tokenUse`): their user pool's JWKS URI is fixed. */
    jwksUri: z.string().url().optional(),
    /** The claim that names the subject (the end user); `sub` unless the IdP puts a stable id elsewhere. */
    subjectClaim: z
      .string()
      .regex(/^[A-Za-z0-9_:.\-/]{1,256}$/, 'a claim name (letters, digits, _ : . - /)')
      .default('sub'),
    /** Narrow the algorithms further than the library's asymmetric set, e.g. `["RS256"]`. */
    allowedAlgorithms: z.array(z.enum(callerAlgorithms)).min(1).optional(),
    /** Whose users these are (stored subjects `user:<namespace>:<claim>`); default the issuer. */
    namespace: z
      .string()
      .refine(isUsableNamespace, '1 to 256 characters, no control characters or surrounding spaces')
      .optional(),
    /** Cognito mode: the token use to accept (`id` or `access`); needs `clientId` and a user pool issuer. */
    tokenUse: z.enum(['id', 'access']).optional(),
    /** Cognito mode: the app client id(s). */
    clientId: oneOrMoreClaimValues.optional(),
  })
  .superRefine((caller, ctx) => {
    checkCallerShape(caller, ctx);
    const url =
      caller.jwksUri !== undefined && URL.canParse(caller.jwksUri) ? new URL(caller.jwksUri) : undefined;
    if (!url) return;
    const insecureLoopback = url.protocol === 'http:' && loopbackHosts.has(url.hostname);
    if (url.protocol !== 'https:' && !insecureLoopback) {
      ctx.addIssue({
        code: 'custom',
        path: ['jwksUri'],
        message: 'must be an https:// URL (http:// only for 127.0.0.1 / [::1] in local mode)',
      });
    }
  });

export const callerAuthConfigSchema = z
  .strictObject({ callers: z.array(trustedCallerSchema).min(1) })
  .superRefine((config, ctx) => {
    // The token's `iss` picks the entry, so two entries for one issuer would make the choice ambiguous.
    const seen = new Set<string>();
    config.callers.forEach((caller, i) => {
      const issuers = issuersOf(caller);
      if (issuers.some((issuer) => seen.has(issuer))) {
        ctx.addIssue({ code: 'custom', path: ['callers', i, 'issuer'], message: 'duplicate issuer' });
      }
      for (const issuer of issuers) seen.add(issuer);
    });
  });

export type TrustedCaller = z.output<typeof trustedCallerSchema>;
export type CallerAuthConfig = z.output<typeof callerAuthConfigSchema>;
export type CallerAuthConfigInput = z.input<typeof callerAuthConfigSchema>;

/** Validates the callers configuration; one {@link ConfigError} naming the first problem. */
export function parseCallerAuthConfig(input: unknown, source = 'callers config'): CallerAuthConfig {
  const parsed = callerAuthConfigSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  const { path, problem } = firstZodProblem(parsed.error);
  throw new ConfigError(`${source}: ${path}: ${problem}`, parsed.error);
}

/**
 * Builds the caller verifier from a callers configuration, validated here first (stricter than the deployment
 * schema: https JWKS, known algorithms, unique issuers). The Lambdas use {@link createCheckedCallerVerifier}
 * with callers this function's schema checked at synth.
 */
export function createCallerVerifier(
  config: CallerAuthConfigInput | { callers: readonly CallerConfig[] },
  options: CallerVerifierOptions = {},
): CallerVerifier {
  return createCheckedCallerVerifier(parseCallerAuthConfig(config).callers, options);
}
