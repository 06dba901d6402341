/**
 * Which callers tokenvend trusts: one entry per identity provider whose user JWTs may call the HTTP API.
 * Every field that aws-jwt-verify would accept as `null` ("don't check") is required here, so a deployment
 * cannot switch off the issuer or audience check by omission.
 */
import { z } from 'zod';
import { ConfigError } from '../../core/errors.js';
import { firstZodProblem } from '../../core/provider/load.js';

/** The JWS algorithms aws-jwt-verify supports; symmetric (HS*) and `none` are impossible by construction. */
export const callerAlgorithms = ['RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;
export type CallerAlgorithm = (typeof callerAlgorithms)[number];

/** Hosts for which an `http://` JWKS URI is tolerated, and then only with `allowInsecureLoopbackJwks`. */
export const loopbackHosts: ReadonlySet<string> = new Set(['127.0.0.1', '[::1]']);

const claimValue = z.string().min(1).max(2048);

export const trustedCallerSchema = z
  .strictObject({
    /** Exact `iss` value of the caller's tokens (no trailing-slash normalisation: IdPs differ). */
    issuer: claimValue,
    /** The `aud` the token must name; with a list, naming one of them is enough. */
    audience: z.union([claimValue, z.array(claimValue).min(1)]),
    jwksUri: z.string().url(),
    /** The claim that names the subject (the end user); `sub` unless the IdP puts a stable id elsewhere. */
    subjectClaim: z
      .string()
      .regex(/^[A-Za-z0-9_:.\-/]{1,256}$/, 'a claim name (letters, digits, _ : . - /)')
      .default('sub'),
    /** Narrow the algorithms further than the library's asymmetric set, e.g. `["RS256"]`. */
    allowedAlgorithms: z.array(z.enum(callerAlgorithms)).min(1).optional(),
  })
  .superRefine((caller, ctx) => {
    const url = URL.canParse(caller.jwksUri) ? new URL(caller.jwksUri) : undefined;
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
      if (seen.has(caller.issuer)) {
        ctx.addIssue({ code: 'custom', path: ['callers', i, 'issuer'], message: 'duplicate issuer' });
      }
      seen.add(caller.issuer);
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
