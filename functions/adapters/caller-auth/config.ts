/**
 * Which callers tokenvend trusts: one entry per identity provider whose user JWTs may call the HTTP API.
 * Every field that aws-jwt-verify would accept as `null` ("don't check") is required here, so a deployment
 * cannot switch off the issuer or audience check by omission: a generic caller names `audience`, a Cognito
 * caller (`tokenUse`) names `clientId` (aws-jwt-verify's CognitoJwtVerifier checks `token_use`, and `aud` of ID
 * tokens or `client_id` of access tokens, against it).
 */
import { z } from 'zod';
import { checkCallerShape, cognitoIssuerPattern } from '../../core/config/schema.js';
import { ConfigError } from '../../core/errors.js';
import { firstZodProblem } from '../../core/provider/load.js';
import { isUsableNamespace } from '../../core/subject.js';

/** The JWS algorithms aws-jwt-verify supports; symmetric (HS*) and `none` are impossible by construction. */
export const callerAlgorithms = ['RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;
export type CallerAlgorithm = (typeof callerAlgorithms)[number];

/** Hosts for which an `http://` JWKS URI is tolerated, and then only with `allowInsecureLoopbackJwks`. */
export const loopbackHosts: ReadonlySet<string> = new Set(['127.0.0.1', '[::1]']);

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

/**
 * The `iss` values a caller's tokens may carry: its issuer, and for a Cognito user pool also the pool's global
 * issuer (`https://issuer-cognito-idp.<region>.amazonaws.com/<userPoolId>`), which CognitoJwtVerifier accepts too.
 */
export function issuersOf(caller: Pick<TrustedCaller, 'issuer' | 'tokenUse'>): string[] {
  const cognito = caller.tokenUse === undefined ? undefined : cognitoIssuerPattern.exec(caller.issuer);
  if (!cognito) return [caller.issuer];
  return [caller.issuer, `https://issuer-cognito-idp.${cognito[1]}.amazonaws.com/${cognito[2]}`];
}

/** The user pool id of a Cognito caller (its issuer passed {@link checkCallerShape}). */
export function userPoolIdOf(caller: Pick<TrustedCaller, 'issuer'>): string {
  const match = cognitoIssuerPattern.exec(caller.issuer);
  if (!match) throw new ConfigError(`callers: ${caller.issuer} is not a Cognito user pool issuer`);
  return match[2] as string;
}

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
