/**
 * What the verifier needs to know about trusted callers on the request path, without the schema that checks
 * them (config.ts, run by the local runtime, the tests and `cdk synth`): the Lambda bundles carry callers that
 * were checked at synth, so they hold no schema library.
 */
import { cognitoIssuerPattern } from '../../core/config/cognito.js';
import { ConfigError } from '../../core/errors.js';
import type { TrustedCaller } from './config.js';

/** The JWS algorithms aws-jwt-verify supports; symmetric (HS*) and `none` are impossible by construction. */
export const callerAlgorithms = ['RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;
export type CallerAlgorithm = (typeof callerAlgorithms)[number];

/** Hosts for which an `http://` JWKS URI is tolerated, and then only with `allowInsecureLoopbackJwks`. */
export const loopbackHosts: ReadonlySet<string> = new Set(['127.0.0.1', '[::1]']);

/**
 * The `iss` values a caller's tokens may carry: its issuer, and for a Cognito user pool also the pool's global
 * issuer (`https://issuer-cognito-idp.<region>.amazonaws.com/<userPoolId>`), which CognitoJwtVerifier accepts too.
 */
export function issuersOf(caller: Pick<TrustedCaller, 'issuer' | 'tokenUse'>): string[] {
  const cognito = caller.tokenUse === undefined ? undefined : cognitoIssuerPattern.exec(caller.issuer);
  if (!cognito) return [caller.issuer];
  return [caller.issuer, `https://issuer-cognito-idp.${cognito[1]}.amazonaws.com/${cognito[2]}`];
}

/** The user pool id of a Cognito caller (its issuer passed `checkCallerShape`). */
export function userPoolIdOf(caller: Pick<TrustedCaller, 'issuer'>): string {
  const match = cognitoIssuerPattern.exec(caller.issuer);
  if (!match) throw new ConfigError(`callers: ${caller.issuer} is not a Cognito user pool issuer`);
  return match[2] as string;
}
