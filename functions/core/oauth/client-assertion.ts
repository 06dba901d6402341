/**
 * JWTs tokenvend signs for one vendor request, with `jose`, from the client secret's `private_key` (PKCS#8 PEM)
 * and optional `key_id` (the JWT header `kid`):
 * - the client assertion of `private_key_jwt` client authentication (RFC 7523 §2.2 and §3, RFC 7521 §4.2):
 *   `iss` = `sub` = client_id, `aud` = `clientAssertion.audience` or the token endpoint, a fresh `jti`, `iat`,
 *   `exp` = `iat` + `clientAssertion.lifetimeSeconds`;
 * - the authorization grant assertion of `grants.jwt_bearer.assertion.source: signed` (RFC 7523 §2.1 and §3):
 *   the template's claims over variables, `client_id` and `${secret.*}`, plus `iat`, `exp` and a fresh `jti`.
 * Both are signed with `clientAssertion.alg` (default RS256). The request builders stay synchronous: the JWTs
 * travel on the client object ({@link SIGNED_ASSERTIONS}) and are never cached or stored; only the imported
 * key is kept, per secret object.
 */
import { randomUUID } from 'node:crypto';
import { importPKCS8, SignJWT } from 'jose';
import { ConfigError } from '../errors.js';
import { interpolate, lookupFrom, MissingValueError, type ValueLookup } from '../provider/interpolate.js';
import type { ResolvedProvider } from '../provider/resolve.js';
import type { ProviderTemplate } from '../provider/schema.js';
import {
  type ClientSecret,
  hasCredentialFor,
  SIGNED_ASSERTIONS,
  type SignedAssertions,
} from './client-auth.js';
import { type GrantInput, tokenClientAuth, tokenEndpointFor } from './token-request.js';

export type AssertionAlg = NonNullable<ProviderTemplate['clientAssertion']>['alg'];

/** Defaults of the template's `clientAssertion` (the schema applies the same ones when the object is present). */
const DEFAULT_ALG: AssertionAlg = 'RS256';
const DEFAULT_LIFETIME_SECONDS = 300;

function assertionSettings(provider: ResolvedProvider): { alg: AssertionAlg; lifetimeSeconds: number } {
  const spec = provider.template.clientAssertion;
  return {
    alg: spec?.alg ?? DEFAULT_ALG,
    lifetimeSeconds: spec?.lifetimeSeconds ?? DEFAULT_LIFETIME_SECONDS,
  };
}

/** Imported keys per secret object: a re-read (rotated) secret is a new object and imports afresh. */
const keyCache = new WeakMap<object, Map<AssertionAlg, { pem: string; key: Promise<CryptoKey> }>>();

/** A PEM pasted into JSON with escaped line breaks (`\n` as two characters) reads as the real thing. */
function normalisePem(pem: string): string {
  return pem.includes('\\n') ? pem.replace(/(?:\\r)?\\n/g, '\n') : pem;
}

/**
 * The secret's `private_key`, imported for `alg`. A missing or unusable key is a {@link ConfigError} in our
 * own words: neither the key nor the import error's text ever reaches a message.
 */
async function signingKey(
  provider: ResolvedProvider,
  client: ClientSecret,
  alg: AssertionAlg,
  purpose: string,
): Promise<CryptoKey> {
  const pem = client.private_key;
  if (!pem) {
    throw new ConfigError(
      `${purpose} of ${provider.template.id} needs secret.private_key (a PKCS#8 PEM private key) for client ${client.client_id}`,
    );
  }
  let byAlg = keyCache.get(client);
  if (!byAlg) {
    byAlg = new Map();
    keyCache.set(client, byAlg);
  }
  let entry = byAlg.get(alg);
  if (!entry || entry.pem !== pem) {
    entry = { pem, key: importPKCS8(normalisePem(pem), alg) };
    byAlg.set(alg, entry);
  }
  try {
    return await entry.key;
  } catch {
    byAlg.delete(alg);
    throw new ConfigError(
      `secret.private_key of client ${client.client_id} is not a PKCS#8 PEM private key usable with ${alg} ` +
        '(a "BEGIN RSA PRIVATE KEY" key converts with: openssl pkcs8 -topk8 -nocrypt)',
    );
  }
}

function header(alg: AssertionAlg, client: ClientSecret): { alg: AssertionAlg; kid?: string } {
  return client.key_id ? { alg, kid: client.key_id } : { alg };
}

/** Interpolates a claim or audience template; a value the integration lacks is a configuration error. */
function fill(provider: ResolvedProvider, template: string, lookup: ValueLookup, where: string): string {
  try {
    return interpolate(template, lookup);
  } catch (e) {
    if (e instanceof MissingValueError) {
      throw new ConfigError(
        `${where} of ${provider.template.id} needs \${${e.placeholder}}, which this integration does not provide`,
      );
    }
    throw e;
  }
}

/** `clientAssertion.audience` over the variables, else `fallback` (the token endpoint). */
function clientAssertionAudience(provider: ResolvedProvider, fallback: string): string {
  const audience = provider.template.clientAssertion?.audience;
  if (audience === undefined) return fallback;
  return fill(provider, audience, lookupFrom(provider.vars), 'clientAssertion.audience');
}

/**
 * Signs an RFC 7523 §2.2 client assertion for one request: `iss` = `sub` = client_id, `aud` = `audience`,
 * a fresh random `jti`, `iat` = `now` (epoch seconds), `exp` = `iat` + `clientAssertion.lifetimeSeconds`.
 */
export async function signClientAssertion(
  provider: ResolvedProvider,
  client: ClientSecret,
  audience: string,
  now: number,
): Promise<string> {
  const { alg, lifetimeSeconds } = assertionSettings(provider);
  const key = await signingKey(provider, client, alg, 'private_key_jwt client authentication');
  return new SignJWT({})
    .setProtectedHeader(header(alg, client))
    .setIssuer(client.client_id)
    .setSubject(client.client_id)
    .setAudience(audience)
    .setJti(randomUUID())
    .setIssuedAt(now)
    .setExpirationTime(now + lifetimeSeconds)
    .sign(key);
}

/**
 * Signs the RFC 7523 §2.1 assertion of `grants.jwt_bearer.assertion.source: signed`: the template's claims over
 * variables, `client_id` and `${secret.*}`, then `iat` = `now`, `exp` = `iat` + the source's `lifetimeSeconds`
 * and a fresh `jti` (these three always come from here).
 */
export async function signGrantAssertion(
  provider: ResolvedProvider,
  client: ClientSecret,
  now: number,
): Promise<string> {
  const source = provider.template.grants.jwt_bearer?.assertion;
  if (source?.source !== 'signed') {
    throw new ConfigError(`the jwt_bearer grant of ${provider.template.id} does not sign its assertion`);
  }
  const lookup = lookupFrom({ ...provider.vars, client_id: client.client_id }, client);
  const claims: Record<string, string> = {};
  for (const [name, template] of Object.entries(source.claims)) {
    claims[name] = fill(provider, template, lookup, `the jwt_bearer assertion claim ${name}`);
  }
  const { alg } = assertionSettings(provider);
  const key = await signingKey(provider, client, alg, 'the signed jwt_bearer assertion');
  return new SignJWT(claims)
    .setProtectedHeader(header(alg, client))
    .setJti(randomUUID())
    .setIssuedAt(now)
    .setExpirationTime(now + source.lifetimeSeconds)
    .sign(key);
}

function withAssertions(client: ClientSecret, assertions: SignedAssertions): ClientSecret {
  return { ...client, [SIGNED_ASSERTIONS]: assertions };
}

/**
 * `client` carrying the JWTs the token request for `input` needs, signed now: the client assertion when the
 * grant authenticates with `private_key_jwt`, the grant assertion when `jwt_bearer` signs its own. Returns
 * `client` itself when the request needs neither. Call right before `buildTokenRequest`, once per request.
 */
export async function signedClient(
  provider: ResolvedProvider,
  input: GrantInput,
  client: ClientSecret,
  now: number,
): Promise<ClientSecret> {
  const keyJwt = tokenClientAuth(provider, input.grant, client) === 'private_key_jwt';
  const signedGrant =
    input.grant === 'jwt_bearer' && provider.template.grants.jwt_bearer?.assertion.source === 'signed';
  if (!keyJwt && !signedGrant) return client;
  const [clientAssertion, grantAssertion] = await Promise.all([
    keyJwt
      ? signClientAssertion(
          provider,
          client,
          clientAssertionAudience(provider, tokenEndpointFor(provider, input.grant)),
          now,
        )
      : undefined,
    signedGrant ? signGrantAssertion(provider, client, now) : undefined,
  ]);
  return withAssertions(client, { clientAssertion, grantAssertion });
}

/**
 * `client` carrying a client assertion for the RFC 7009 revocation request when `endpoints.revoke` authenticates
 * with `private_key_jwt` and the client has a `private_key` (without one it revokes as a public client); `aud` defaults to the token endpoint, as for token
 * requests (RFC 7523 §3 names it as a value identifying the authorization server), else the revocation URL.
 */
export async function signedRevokeClient(
  provider: ResolvedProvider,
  client: ClientSecret,
  now: number,
): Promise<ClientSecret> {
  const spec = provider.template.endpoints.revoke;
  const url = provider.endpoints.revoke;
  if (!spec || !url || spec.auth !== 'client' || spec.clientAuth !== 'private_key_jwt') return client;
  if (!hasCredentialFor('private_key_jwt', client)) return client;
  const audience = clientAssertionAudience(provider, provider.endpoints.token ?? url);
  return withAssertions(client, {
    clientAssertion: await signClientAssertion(provider, client, audience, now),
  });
}
