/**
 * The deployment configuration: which integrations exist (a provider plus variables), who may call, where
 * users may be sent back to. The same shape serves AWS (from the stack) and local mode (a JSON file);
 * `secret` is accepted only in local mode, AWS reads secrets from Secrets Manager.
 */
import { z } from 'zod';
import {
  isForwardableHeader,
  isProxyPathPrefix,
  MAX_PROXY_REQUEST_BYTES,
  MAX_PROXY_TIMEOUT_MS,
  PROXY_METHODS,
} from '../flows/proxy.js';
import { SUBJECT_DOMAIN } from '../saml/subject-transform.js';
import { callerNamespace, isUsableNamespace, LOCAL_NAMESPACE, maxNamespaceLength } from '../subject.js';
import { cognitoIssuerPattern } from './cognito.js';
import { deploySettingsSchema } from './deploy-settings.js';

const integrationId = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lowercase letters, digits and dashes (max 63)');

const samlConfigObject = z.strictObject({
  /**
   * The IdP signing certificate(s), PEM or base64 DER. Pinned: certificates in KeyInfo are ignored. Exactly one of
   * `idpCert` (with `idpIssuer`), `idpMetadataXml` and `idpMetadataUrl`.
   */
  idpCert: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
  /** The IdP's entity ID. Required with `idpCert`; with metadata it picks (and must match) the EntityDescriptor. */
  idpIssuer: z.string().min(1).optional(),
  /** The IdP's SAML metadata document, inline: entity ID, signing certificates (all trusted) and SSO URL. */
  idpMetadataXml: z.string().min(1).optional(),
  /** The IdP's SAML metadata URL (https), fetched at run time and cached per container (rollover). */
  idpMetadataUrl: z.string().url().optional(),
  /**
   * The IdP's single sign-on URL (HTTP-Redirect binding) that SP-initiated sign-in (`GET /saml/{id}/login`)
   * sends the AuthnRequest to. Without it (and without IdP metadata) only IdP-initiated sign-in works.
   */
  idpSsoUrl: z.string().url().optional(),
  /** Our SP entity ID: the Audience the IdP must name. */
  spEntityId: z.string().min(1),
  /** Read the subject from this attribute instead of NameID. */
  subjectAttribute: z.string().min(1).optional(),
  /**
   * How the asserted value (NameID or `subjectAttribute`) becomes the subject, as data: `stripDomain` removes
   * `@<domain>` for one of these domains (compared case-insensitively; a value with another or no domain is
   * refused), then `lowercase` lowercases it. Both optional; the value is kept as asserted without them.
   */
  subjectTransform: z
    .strictObject({
      lowercase: z.boolean().optional(),
      stripDomain: z
        .array(z.string().regex(SUBJECT_DOMAIN, 'a domain name such as corp.example.com'))
        .min(1)
        .max(20)
        .optional(),
    })
    .optional(),
  /**
   * The caller namespace the SAML subject belongs to: connections are stored as `user:<subjectNamespace>:<NameID>`
   * and vended to callers of that namespace. Default: the callers' namespace when they all share one (`local`, the
   * local issuer's, when no callers are configured); required when the callers have several.
   */
  subjectNamespace: z.string().refine(isUsableNamespace, namespaceProblem()).optional(),
  /**
   * Legacy: also accept RSA-SHA1 signatures and SHA-1 digests from this IdP. Off by default (SHA-256/512 only);
   * turn it on only for an IdP that cannot sign otherwise, and turn it off when it can.
   */
  allowSha1: z.boolean().optional(),
  /**
   * NameID formats the SP metadata lists (the first one is requested in SP-initiated AuthnRequests). Default
   * `urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified`: the IdP sends what it is configured to send.
   */
  /**
   * Accept IdP-initiated (unsolicited) responses, without `InResponseTo`. Default true, for compatibility; set
   * false when every sign-in starts at `GET /saml/{id}/login`, so that every response answers a request of ours.
   */
  allowIdpInitiated: z.boolean().optional(),
  nameIdFormats: z.array(z.string().min(1).max(256)).min(1).max(8).optional(),
});

export const samlConfigSchema = samlConfigObject.superRefine((saml, ctx) => {
  const sources = (['idpCert', 'idpMetadataXml', 'idpMetadataUrl'] as const).filter(
    (k) => saml[k] !== undefined,
  );
  if (sources.length !== 1) {
    ctx.addIssue({
      code: 'custom',
      path: [sources[1] ?? 'idpCert'],
      message: 'exactly one of idpCert (with idpIssuer), idpMetadataXml or idpMetadataUrl',
    });
  } else if (sources[0] === 'idpCert' && saml.idpIssuer === undefined) {
    ctx.addIssue({ code: 'custom', path: ['idpIssuer'], message: 'required with idpCert' });
  }
});

export const serviceConnectionSchema = z.strictObject({
  grant: z.enum(['client_credentials', 'jwt_bearer', 'password', 'static']),
  scopes: z.array(z.string().min(1)).optional(),
  /** IAM principal ARNs allowed to fetch this connection (AWS); empty means any principal the route admits. */
  allowedPrincipals: z.array(z.string().min(1)).default([]),
});

/**
 * A path prefix of the proxy allow-list, below the API base URL and in decoded form: `/`, `/api/v2/users/`.
 * Checked like a request's path (the proxy refuses anything else in requests, so such a prefix would match nothing).
 */
const proxyPathPrefix = z
  .string()
  .max(512)
  .refine(
    isProxyPathPrefix,
    'starts with / and holds no empty, . or .. segment, %, backslash or control character',
  );

export const proxyConfigSchema = z.strictObject({
  /** What may be forwarded: a request passes when one entry lists its method and its path is under the prefix. */
  allow: z
    .array(
      z.strictObject({
        methods: z.array(z.enum(PROXY_METHODS)).min(1),
        /** `/api/v2/users` covers `/api/v2/users` and `/api/v2/users/7`, not `/api/v2/users-admin`; `/` covers all. */
        pathPrefix: proxyPathPrefix,
      }),
    )
    .min(1)
    .max(100),
  /** Request headers forwarded besides the built-in list (vendor-specific ones); never credentials or hop-by-hop. */
  forwardHeaders: z
    .array(
      z
        .string()
        .refine(
          isForwardableHeader,
          'a header name the proxy may forward (not a credential, cookie, hop-by-hop, forwarding or x-amz/x-tokenvend header)',
        ),
    )
    .max(20)
    .optional(),
  /** Largest request body forwarded, in bytes (default 1 MiB; at most 4 MiB, within Lambda's 6 MB payload). */
  maxRequestBytes: z.number().int().min(0).max(MAX_PROXY_REQUEST_BYTES).optional(),
  /** How long one vendor call may take, in ms (default 10000; at most 12000, within API Gateway's 30 s). */
  timeoutMs: z.number().int().min(100).max(MAX_PROXY_TIMEOUT_MS).optional(),
});

export const integrationConfigSchema = z.strictObject({
  /** A built-in provider id, or an inline template object. */
  provider: z.union([z.string().min(1), z.record(z.string(), z.unknown())]),
  vars: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
  scopes: z.array(z.string().min(1)).optional(),
  /** Local mode only: the client credentials `{client_id, client_secret, ...}`. */
  secret: z.record(z.string(), z.string()).optional(),
  /** AWS: the Secrets Manager secret id holding the client credentials JSON. */
  secretId: z.string().min(1).optional(),
  saml: samlConfigSchema.optional(),
  /**
   * OIDC discovery / RFC 8414 metadata URL (`https://idp.example.com/.well-known/openid-configuration`): the
   * provider's endpoints and issuer are taken from the document on first use, overriding the template's.
   */
  discovery: z.string().url().optional(),
  /**
   * `false`: never send PKCE, for a vendor that refuses it. By default every client, confidential ones too,
   * uses PKCE where the template supports it (RFC 9700 §2.1.1).
   */
  pkce: z.boolean().optional(),
  serviceConnections: z.record(integrationId, serviceConnectionSchema).default({}),
  /**
   * Services that may vend any user's connection of this integration by naming the user (a backend job acting
   * for a user it already authenticated): `POST /service/users/{integration}/vend`, IAM-authorised. The list is
   * explicit and never empty; without this section no principal may.
   */
  onBehalfOf: z.strictObject({ allowedPrincipals: z.array(z.string().min(1)).min(1) }).optional(),
  /** Per-integration scheduled refresh settings (override `refresh` at the top level). */
  refresh: z
    .strictObject({
      /** Most worker Lambdas refreshing this integration at once (SQS event source `maxConcurrency`, 2..1000). */
      maxConcurrency: z.number().int().min(2).max(1000).optional(),
    })
    .optional() /**
   * The vendor API proxy (`/proxy/{integration}/{path+}`, docs/proxy.md): only the methods and path prefixes
   * listed here are forwarded to the template's `api.baseUrl`; without this section the route answers 404.
   */,
  proxy: proxyConfigSchema.optional(),
});

/** The scheduled refresh (planner on a schedule -> SQS per integration -> worker). */
export const refreshConfigSchema = z.strictObject({
  /** How often the planner runs, in minutes (EventBridge schedule). */
  scheduleMinutes: z.number().int().min(1).max(60).default(1),
  /** How far back the planner looks for connections that are due and still unrefreshed, in seconds. */
  lookbackSeconds: z.number().int().min(60).max(86_400).default(3_600),
  /** Default cap on worker Lambdas per integration (SQS event source `maxConcurrency`, 2..1000). */
  maxConcurrency: z.number().int().min(2).max(1000).default(2),
  /** Receives of a message before it goes to the dead-letter queue. */
  maxReceiveCount: z.number().int().min(1).max(100).default(5),
  /** Seconds a worker may run for one batch; the queue's visibility timeout is six times this. */
  workerTimeoutSeconds: z.number().int().min(10).max(900).default(60),
});

const oneOrMore = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

function namespaceProblem(): string {
  return `1 to ${maxNamespaceLength} characters, no control characters or surrounding spaces`;
}

// In its own module: the caller verifier on the request path uses it without loading this schema.
export { cognitoIssuerPattern };

/**
 * The rules between a caller entry's fields, shared with the caller-auth adapter's stricter schema: a generic
 * caller names `audience` and `jwksUri`; a Cognito caller (`tokenUse`) names `clientId` (checked against `aud`
 * for ID tokens, `client_id` for access tokens) and a user pool issuer, whose JWKS URI is fixed. No check can
 * be left out: every option the verifier gets is set.
 */
export function checkCallerShape(
  caller: {
    issuer: string;
    audience?: unknown;
    jwksUri?: string | undefined;
    namespace?: string | undefined;
    tokenUse?: string | undefined;
    clientId?: unknown;
  },
  ctx: z.RefinementCtx,
): void {
  const issue = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
  if (caller.tokenUse === undefined) {
    if (caller.audience === undefined) issue('audience', 'required (or tokenUse and clientId for Cognito)');
    if (caller.jwksUri === undefined) issue('jwksUri', 'required');
    if (caller.clientId !== undefined)
      issue('clientId', 'only with tokenUse (Cognito); others name audience');
  } else {
    if (caller.clientId === undefined) issue('clientId', 'required with tokenUse');
    if (caller.audience !== undefined) issue('audience', 'not with tokenUse: Cognito callers name clientId');
    if (!cognitoIssuerPattern.test(caller.issuer)) {
      issue('issuer', 'with tokenUse: https://cognito-idp.<region>.amazonaws.com/<userPoolId>');
    } else if (caller.jwksUri !== undefined && caller.jwksUri !== `${caller.issuer}/.well-known/jwks.json`) {
      issue('jwksUri', "with tokenUse: omit it, or the user pool's <issuer>/.well-known/jwks.json");
    }
  }
  if (caller.namespace === undefined && !isUsableNamespace(caller.issuer)) {
    issue('namespace', `required: the issuer is not usable as the namespace (${namespaceProblem()})`);
  }
}

export const callerConfigSchema = z
  .strictObject({
    issuer: z.string().min(1),
    /** The `aud` the token must name (generic callers). */
    audience: oneOrMore.optional(),
    /** Optional only for Cognito callers (`tokenUse`), whose JWKS URI follows from the issuer. */
    jwksUri: z.string().url().optional(),
    subjectClaim: z.string().min(1).default('sub'),
    /** Narrows the accepted JWS algorithms (validated against aws-jwt-verify's set by the caller-auth adapter). */
    allowedAlgorithms: z.array(z.string().min(1)).min(1).optional(),
    /**
     * Whose users these are: stored subjects are `user:<namespace>:<claim>`. Default: the issuer, so two issuers'
     * equal `sub` values are two users; callers given the same namespace share their users.
     */
    namespace: z.string().refine(isUsableNamespace, namespaceProblem()).optional(),
    /** Cognito mode: accept only this token use (`id` or `access`), with `clientId`. */
    tokenUse: z.enum(['id', 'access']).optional(),
    /** Cognito mode: the app client id(s); `aud` of ID tokens, `client_id` of access tokens. */
    clientId: oneOrMore.optional(),
  })
  .superRefine(checkCallerShape);

/**
 * SAML subjects and caller namespaces agree: without `subjectNamespace` the callers must have a single namespace,
 * and an explicit one must be a caller's (or the local issuer's).
 */
function checkSamlNamespaces(
  config: {
    integrations: Record<string, { saml?: { subjectNamespace?: string | undefined } | undefined }>;
    callers: { issuer: string; namespace?: string | undefined }[];
  },
  ctx: z.RefinementCtx,
): void {
  const namespaces = new Set(config.callers.map(callerNamespace));
  for (const [id, integration] of Object.entries(config.integrations)) {
    const saml = integration.saml;
    if (!saml) continue;
    const path = ['integrations', id, 'saml', 'subjectNamespace'];
    if (saml.subjectNamespace === undefined) {
      if (namespaces.size > 1) {
        ctx.addIssue({
          code: 'custom',
          path,
          message:
            'required when the callers have more than one namespace: the namespace whose users these are',
        });
      }
    } else if (!namespaces.has(saml.subjectNamespace) && saml.subjectNamespace !== LOCAL_NAMESPACE) {
      ctx.addIssue({ code: 'custom', path, message: "names no caller's namespace" });
    }
  }
}

const deploymentConfigObject = z.strictObject({
  $schema: z.string().optional(),
  /** Public base URL of the API (`https://tokens.example.com`); redirect URIs are built from it. */
  publicBaseUrl: z.string().url().optional(),
  integrations: z.record(integrationId, integrationConfigSchema),
  callers: z.array(callerConfigSchema).default([]),
  /** Allowed `return_to` / RelayState targets: exact origins (`https://app.example.com`) or URL prefixes ending in `/`. */
  returnUrls: z.array(z.string().url()).default([]),
  corsOrigins: z.array(z.string().url()).default([]),
  refresh: refreshConfigSchema.default({
    scheduleMinutes: 1,
    lookbackSeconds: 3_600,
    maxConcurrency: 2,
    maxReceiveCount: 5,
    workerTimeoutSeconds: 60,
  }),
  /** How the CDK stack is built (account, region, retention, throttling, custom domain); read at synth only. */
  deploy: deploySettingsSchema.prefault({}),
});

/** The deployment config, with the rules that span sections (SAML subject namespaces vs callers). */
export const deploymentConfigSchema = deploymentConfigObject.superRefine(checkSamlNamespaces);

export type DeploymentConfig = z.output<typeof deploymentConfigSchema>;
export type DeploymentConfigInput = z.input<typeof deploymentConfigSchema>;
export type IntegrationConfig = z.output<typeof integrationConfigSchema>;
export type SamlConfig = z.output<typeof samlConfigSchema>;
export type ServiceConnectionConfig = z.output<typeof serviceConnectionSchema>;
export type RefreshConfig = z.output<typeof refreshConfigSchema>;
export type CallerConfig = z.output<typeof callerConfigSchema>;
