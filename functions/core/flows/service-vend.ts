/**
 * Service connections: tokens for other services (client credentials, JWT bearer, password, static Basic),
 * fetched through an IAM-authorised route. The connection is a named service account (`service:<name>`, a key
 * space no user subject can name: users are `user:<namespace>:<claim>`, see core/subject.ts); its credentials
 * are obtained on first use and again whenever they lapse, and refreshed single-flight otherwise.
 */

import { randomUUID } from 'node:crypto';
import type { Integration } from '../config/deployment.js';
import { ConfigError, InvalidRequestError, VendorError } from '../errors.js';
import { NeedsReauthError, NotConnectedError, RefreshUnavailableError } from '../lifecycle/errors.js';
import type { ClientSecret } from '../oauth/client-auth.js';
import { requestToken, staticTokenSet } from '../oauth/engine.js';
import type { GrantInput } from '../oauth/token-request.js';
import { serviceSubject } from '../subject.js';
import type { TokenSet } from '../token-set.js';
import { withClientSecret } from './client-secret.js';
import { type FlowDeps, integrationOf } from './deps.js';
import { type VendOptions, type VendResult, vendFor } from './vend.js';

export { serviceSubject };

/** `arn:<partition>:sts::<account>:assumed-role/<role name>/<session name>`: what API Gateway reports for a role. */
const assumedRoleArn =
  /^arn:(aws(?:-[a-z]+)*):sts::(\d{12}):assumed-role\/([\w+=,.@-]{1,64})\/[\w+=,.@-]{1,64}$/;
/** `arn:<partition>:iam::<account>:role/<optional/path/><role name>`: how an allow-list names a role. */
const roleArn = /^arn:(aws(?:-[a-z]+)*):iam::(\d{12}):role\/(?:[\x21-\x7e]*\/)?([\w+=,.@-]{1,64})$/;

/**
 * Whether `principal` (API Gateway's `requestContext.authorizer.iam.userArn`) is on `allowList`. An entry equal to
 * the principal matches (IAM users: `arn:aws:iam::<account>:user/<path/>name`); a role entry
 * `arn:aws:iam::<account>:role/<path/>Name` also matches every session of that role,
 * `arn:aws:sts::<account>:assumed-role/Name/<session>`: same partition, same account, same role name (exactly, as
 * created; role names are unique in an account, and the STS ARN drops the path). Nothing else matches: no
 * prefixes, no wildcards, no other account.
 */
export function isPrincipalAllowed(allowList: readonly string[], principal: string | undefined): boolean {
  if (!principal) return false;
  if (allowList.includes(principal)) return true;
  const session = assumedRoleArn.exec(principal);
  if (!session) return false;
  return allowList.some((entry) => {
    const role = roleArn.exec(entry);
    return role !== null && role[1] === session[1] && role[2] === session[2] && role[3] === session[3];
  });
}

/**
 * The grant input of a service connection: nothing from a caller, so the credentials come from the client
 * secret (`jwt_assertion` for a `jwt_bearer` grant whose assertion source is `caller`; `username` and `password`).
 * A `jwt_bearer` template that reads its assertion from the secret or signs one needs nothing here.
 */
export function serviceGrantInput(
  integration: Pick<Integration, 'id' | 'provider'>,
  grant: string,
  secret: ClientSecret,
  scopes: string[] | undefined,
): GrantInput {
  const id = integration.id;
  switch (grant) {
    case 'client_credentials':
      return { grant, scopes };
    case 'jwt_bearer':
      if ((integration.provider.template.grants.jwt_bearer?.assertion.source ?? 'caller') !== 'caller') {
        return { grant, scopes };
      }
      if (!secret.jwt_assertion)
        throw new ConfigError(
          `integration ${id}: the jwt_bearer service connection needs secret.jwt_assertion`,
        );
      return { grant, assertion: secret.jwt_assertion, scopes };
    case 'password':
      if (!secret.username || !secret.password)
        throw new ConfigError(
          `integration ${id}: the password service connection needs secret.username and secret.password`,
        );
      return { grant, username: secret.username, password: secret.password, scopes };
    default:
      throw new ConfigError(`integration ${id}: unsupported service grant ${grant}`);
  }
}

async function obtain(
  deps: FlowDeps,
  integration: Integration,
  grant: string,
  scopes: string[] | undefined,
): Promise<TokenSet> {
  if (grant === 'static') {
    return staticTokenSet(
      integration.provider,
      await deps.secrets.getClientSecret(integration.id),
      deps.now(),
    );
  }
  return withClientSecret(deps.secrets, integration.id, (secret) =>
    requestToken(integration.provider, serviceGrantInput(integration, grant, secret, scopes), secret, {
      fetch: deps.fetch,
      timeoutMs: deps.vendorTimeoutMs,
      now: deps.now,
    }),
  );
}

export async function vendServiceToken(
  deps: FlowDeps,
  input: { integration: string; connection: string; principal: string | undefined } & VendOptions,
): Promise<VendResult> {
  const integration = await integrationOf(deps, input.integration);
  // Own keys only: `__proto__` or `constructor` must not find Object.prototype's members.
  const connections = integration.config.serviceConnections;
  const spec = Object.hasOwn(connections, input.connection) ? connections[input.connection] : undefined;
  if (!spec)
    throw new InvalidRequestError('no such service connection', { status: 404, error: 'unknown_connection' });
  if (spec.allowedPrincipals.length > 0 && !isPrincipalAllowed(spec.allowedPrincipals, input.principal)) {
    throw new InvalidRequestError('this principal may not use this service connection', {
      status: 403,
      error: 'access_denied',
    });
  }
  const subject = serviceSubject(input.connection);
  try {
    return await vendFor(deps, integration, subject, input);
  } catch (error) {
    if (!(error instanceof NotConnectedError || error instanceof NeedsReauthError)) throw error;
  }
  const scopes = spec.scopes ?? integration.config.scopes;
  if (spec.grant === 'static') {
    // Nothing to ask the vendor: the credentials are the secret's.
    const tokens = await obtain(deps, integration, spec.grant, scopes);
    await deps.lifecycle.storeNewConnection(integration, { subject, grant: spec.grant, tokens });
    return vendFor(deps, integration, subject);
  }
  return obtainOnce(
    deps,
    integration,
    subject,
    () => obtain(deps, integration, spec.grant, scopes),
    spec.grant,
  );
}

/** How long one caller may take to obtain credentials: a vendor request, its timeout, and the write. */
const OBTAIN_LEASE_MS = 15_000;
/** Waiting callers look for the holder's result this often, this many times, before a 503 with Retry-After 1. */
const PEER_POLL_MS = 150;
const PEER_POLLS = 20;
/** After a vendor failure that names no Retry-After, nobody asks again for this long; a Retry-After is capped. */
const OBTAIN_BACKOFF_SECONDS = 5;
const MAX_OBTAIN_BACKOFF_SECONDS = 900;

/**
 * Obtains a service connection's credentials single-flight (one caller asks the vendor; the others wait for its
 * result), and not at all before the vendor's Retry-After (or a short backoff) after it failed: 500 callers of
 * an expired client-credentials token make one vendor request, and a vendor that said 429 is not asked again
 * until it said to.
 */
async function obtainOnce(
  deps: FlowDeps,
  integration: Integration,
  subject: string,
  ask: () => Promise<TokenSet>,
  grant: string,
): Promise<VendResult> {
  const key = `obtain\n${integration.id}\n${subject}`;
  const owner = randomUUID();
  const lease = await deps.obtains.acquire(key, owner, OBTAIN_LEASE_MS);
  if (!lease.acquired) {
    if (lease.notBefore !== undefined) {
      throw new RefreshUnavailableError(
        `${integration.id} asked us to wait before obtaining credentials again`,
        {
          retryAfterSeconds: Math.max(1, lease.notBefore - deps.now()),
        },
      );
    }
    return waitForPeer(deps, integration, subject);
  }
  let tokens: TokenSet;
  try {
    tokens = await ask();
  } catch (error) {
    // Only the vendor's own answer (or silence) makes everyone wait; our own failure lets the next caller try.
    const notBefore =
      error instanceof VendorError
        ? deps.now() +
          Math.min(
            MAX_OBTAIN_BACKOFF_SECONDS,
            (error as { retryAfterSeconds?: number }).retryAfterSeconds ?? OBTAIN_BACKOFF_SECONDS,
          )
        : undefined;
    await deps.obtains.release(key, owner, notBefore);
    throw error;
  }
  try {
    await deps.lifecycle.storeNewConnection(integration, { subject, grant, tokens });
  } finally {
    await deps.obtains.release(key, owner);
  }
  return vendFor(deps, integration, subject);
}

/** Another caller is obtaining: take its result once stored, else 503 with Retry-After 1. */
async function waitForPeer(deps: FlowDeps, integration: Integration, subject: string): Promise<VendResult> {
  for (let poll = 0; poll < PEER_POLLS; poll++) {
    await new Promise((resolve) => setTimeout(resolve, PEER_POLL_MS * (0.5 + Math.random())));
    try {
      return await vendFor(deps, integration, subject);
    } catch (error) {
      if (!(error instanceof NotConnectedError || error instanceof NeedsReauthError)) throw error;
    }
  }
  throw new RefreshUnavailableError(
    `credentials of ${integration.id} are being obtained; try again shortly`,
    {
      retryAfterSeconds: 1,
    },
  );
}
