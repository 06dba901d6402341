/**
 * A service acting for a user it already authenticated (a post-call worker for agent X): it names the user and
 * gets that user's token through an IAM-authorised route. Only principals on the integration's explicit
 * `onBehalfOf.allowedPrincipals` may (never an empty list: without the section nobody may), and the user is named
 * as a caller would be identified, (namespace, claim), so the subject is built by the one builder of user subjects
 * and no service connection (`service:<name>`) can be reached this way.
 */
import { InvalidRequestError } from '../errors.js';
import { callerNamespace, LOCAL_NAMESPACE, userSubject } from '../subject.js';
import { type FlowDeps, integrationOf } from './deps.js';
import { isPrincipalAllowed } from './service-vend.js';
import { type VendResult, vendFor } from './vend.js';

export interface OnBehalfRequest {
  integration: string;
  /** The IAM principal API Gateway's authorizer reports (`userArn`). */
  principal: string | undefined;
  /**
   * Reads the JSON body `{"user": "<the user's subject claim>", "namespace"?: "<caller namespace>"}`; called only
   * after the principal passed the allow-list.
   */
  readBody: () => Record<string, unknown>;
  /** The hash of a token the vendor refused (see vend.ts). */
  rejected?: string | undefined;
}

/**
 * The stored subject the request names: `namespace` as given (one of the callers' namespaces, or the local
 * issuer's), else the callers' single namespace (the local issuer's when there are no callers).
 */
export function onBehalfSubject(deps: Pick<FlowDeps, 'deployment'>, body: Record<string, unknown>): string {
  const unknown = Object.keys(body).filter((k) => k !== 'user' && k !== 'namespace');
  if (unknown.length) throw new InvalidRequestError(`unknown field ${unknown.join(', ')}`);
  if (typeof body.user !== 'string' || body.user === '') {
    throw new InvalidRequestError('user is required: the subject claim of the user to act for');
  }
  const namespaces = new Set(deps.deployment.config.callers.map(callerNamespace));
  let namespace: string;
  if (body.namespace !== undefined) {
    if (typeof body.namespace !== 'string') throw new InvalidRequestError('namespace must be a string');
    if (!namespaces.has(body.namespace) && body.namespace !== LOCAL_NAMESPACE) {
      throw new InvalidRequestError("namespace names no caller's namespace");
    }
    namespace = body.namespace;
  } else if (namespaces.size <= 1) {
    namespace = [...namespaces][0] ?? LOCAL_NAMESPACE;
  } else {
    throw new InvalidRequestError('namespace is required: the callers have more than one');
  }
  return userSubject(namespace, body.user);
}

/** The named user's fresh token; 403 `access_denied` unless the principal is on `onBehalfOf.allowedPrincipals`. */
export async function vendOnBehalf(
  deps: FlowDeps,
  request: OnBehalfRequest,
  onSubject: (subject: string) => void = () => undefined,
): Promise<VendResult> {
  const integration = await integrationOf(deps, request.integration);
  const allowed = integration.config.onBehalfOf?.allowedPrincipals ?? [];
  if (!isPrincipalAllowed(allowed, request.principal)) {
    throw new InvalidRequestError('this principal may not act for users of this integration', {
      status: 403,
      error: 'access_denied',
    });
  }
  const subject = onBehalfSubject(deps, request.readBody());
  onSubject(subject);
  return vendFor(deps, integration, subject, { rejected: request.rejected });
}
