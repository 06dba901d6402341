/**
 * The public HTTP contract: which route runs which handler file, and what each handler may touch.
 * The CDK stack (lib/) and the local runtime (functions/local/) both read this table, so they cannot drift.
 */
export type TableAccess = 'none' | 'read' | 'readWrite';
export type KeyAccess = 'none' | 'decrypt' | 'encryptDecrypt';

export interface RouteSpec {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** `{name}` is one segment; a final `{name+}` is the rest of the path (greedy, as in API Gateway). */
  path: string;
  /** `jwt`: caller JWT verified in the handler; `iam`: API Gateway IAM authorizer; `none`: public. */
  auth: 'none' | 'jwt' | 'iam';
}

export interface FunctionSpec {
  /** File under functions/handlers/ (without `.ts`), exporting `handler`. */
  entry: string;
  routes: RouteSpec[];
  table: TableAccess;
  key: KeyAccess;
  /** Reads client secrets from Secrets Manager. */
  secrets: boolean;
  /** Publishes connection events to the stack's EventBridge bus. */
  events: boolean;
  timeoutSeconds: number;
}

export const FUNCTIONS: readonly FunctionSpec[] = [
  {
    entry: 'health',
    routes: [{ method: 'GET', path: '/health', auth: 'none' }],
    table: 'none',
    key: 'none',
    secrets: false,
    events: false,
    timeoutSeconds: 3,
  },
  {
    entry: 'connect',
    routes: [{ method: 'POST', path: '/connect/{integration}', auth: 'jwt' }],
    table: 'readWrite',
    key: 'none',
    secrets: true,
    events: false,
    timeoutSeconds: 10,
  },
  {
    // Parks the tokens (encrypted) for the claim; revokes what it will not park. Stores no connection itself.
    entry: 'oauth-callback',
    routes: [{ method: 'GET', path: '/oauth/{integration}/callback', auth: 'none' }],
    table: 'readWrite',
    key: 'encryptDecrypt',
    secrets: true,
    events: false,
    timeoutSeconds: 20,
  },
  {
    // Turns a parked flow into the starting subject's connection; revokes a refused one at the vendor.
    entry: 'connect-claim',
    routes: [{ method: 'POST', path: '/connect/{integration}/claim', auth: 'jwt' }],
    table: 'readWrite',
    key: 'encryptDecrypt',
    secrets: true,
    events: true,
    timeoutSeconds: 20,
  },
  {
    // Checks a user's own vendor credentials once at the vendor, then stores them (encrypted) as the caller's
    // connection (grants.user_credentials). No client secret: the check is the user's own Basic sign-in.
    entry: 'connect-credentials',
    routes: [{ method: 'POST', path: '/connect/{integration}/credentials', auth: 'jwt' }],
    table: 'readWrite',
    key: 'encryptDecrypt',
    secrets: false,
    events: true,
    timeoutSeconds: 20,
  },
  {
    // The SAML routes of an integration: the ACS (parks tokens for a frontend-started sign-in), SP-initiated
    // login (stores the request ID) and the SP metadata (reads the SP certificates from the secret).
    entry: 'saml-acs',
    routes: [
      { method: 'POST', path: '/saml/{integration}/acs', auth: 'none' },
      { method: 'GET', path: '/saml/{integration}/login', auth: 'none' },
      { method: 'GET', path: '/saml/{integration}/metadata', auth: 'none' },
    ],
    table: 'readWrite',
    key: 'encryptDecrypt',
    secrets: true,
    events: true,
    timeoutSeconds: 20,
  },
  {
    // The caller's own token (JWT); and, IAM-authorised, a named user's token for the services on the
    // integration's `onBehalfOf` allow-list. Both read users' connections only (the KMS grant's `user:*`).
    entry: 'vend',
    routes: [
      { method: 'GET', path: '/vend/{integration}', auth: 'jwt' },
      { method: 'POST', path: '/service/users/{integration}/vend', auth: 'iam' },
    ],
    table: 'readWrite',
    key: 'encryptDecrypt',
    secrets: true,
    events: true,
    timeoutSeconds: 30,
  },
  {
    // RFC 8693 token exchange: the subject_token (the caller's JWT, verified in the handler like `jwt` routes)
    // is the authentication, so the route itself is public. The same lifecycle and grants as `vend`.
    entry: 'token-exchange',
    routes: [{ method: 'POST', path: '/oauth2/token', auth: 'none' }],
    table: 'readWrite',
    key: 'encryptDecrypt',
    secrets: true,
    events: true,
    timeoutSeconds: 30,
  },
  {
    // RFC 8414 metadata naming the token endpoint and grant; reads only the configuration, like health.
    entry: 'oauth-metadata',
    routes: [{ method: 'GET', path: '/.well-known/oauth-authorization-server', auth: 'none' }],
    table: 'none',
    key: 'none',
    secrets: false,
    events: false,
    timeoutSeconds: 3,
  },
  {
    // The vendor API proxy: the caller's request sent to the vendor with the caller's token (the same lifecycle and
    // grants as `vend`, users' connections only). 29 s: two vendor attempts and one refresh, under API Gateway's 30 s.
    entry: 'proxy',
    routes: (['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const).map((method) => ({
      method,
      path: '/proxy/{integration}/{path+}',
      auth: 'jwt' as const,
    })),
    table: 'readWrite',
    key: 'encryptDecrypt',
    secrets: true,
    events: true,
    timeoutSeconds: 29,
  },
  {
    entry: 'connections',
    routes: [
      { method: 'GET', path: '/connections', auth: 'jwt' },
      { method: 'DELETE', path: '/connections/{integration}', auth: 'jwt' },
    ],
    table: 'readWrite',
    key: 'decrypt',
    secrets: true,
    events: true,
    timeoutSeconds: 20,
  },
  {
    entry: 'service-vend',
    routes: [{ method: 'GET', path: '/service/vend/{integration}/{connection}', auth: 'iam' }],
    table: 'readWrite',
    key: 'encryptDecrypt',
    secrets: true,
    events: true,
    timeoutSeconds: 30,
  },
];

/** Names of the environment variables the stack sets and the handlers read (only in the handler layer). */
export const ENV = {
  environment: 'TOKENVEND_ENV',
  tableName: 'TOKENVEND_TABLE',
  keyArn: 'TOKENVEND_KMS_KEY_ARN',
  secretPrefix: 'TOKENVEND_SECRET_PREFIX',
  configFile: 'TOKENVEND_CONFIG_FILE',
  /** JSON object: integration id -> URL of its refresh queue (planner). */
  refreshQueues: 'TOKENVEND_REFRESH_QUEUES',
  /** Name of the EventBridge bus connection events go to. */
  eventBus: 'TOKENVEND_EVENT_BUS',
  /** The audit trail's dedicated log group (docs/audit.md). */
  auditLogGroup: 'TOKENVEND_AUDIT_LOG_GROUP',
} as const;

/**
 * The scheduled refresh's functions (DESIGN flow 4), not behind the API: the planner runs on a schedule and
 * queries the refresh-due index only; the worker consumes the per-integration refresh queues.
 */
export const REFRESH_FUNCTIONS = {
  planner: { entry: 'refresh-planner', timeoutSeconds: 60 },
  worker: { entry: 'refresh-worker' },
} as const;
