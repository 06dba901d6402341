/**
 * The public HTTP contract: which route runs which handler file, and what each handler may touch.
 * The CDK stack (lib/) and the local runtime (functions/local/) both read this table, so they cannot drift.
 */
export type TableAccess = 'none' | 'read' | 'readWrite';
export type KeyAccess = 'none' | 'decrypt' | 'encryptDecrypt';

export interface RouteSpec {
  method: 'GET' | 'POST' | 'DELETE';
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
  timeoutSeconds: number;
}

export const FUNCTIONS: readonly FunctionSpec[] = [
  {
    entry: 'health',
    routes: [{ method: 'GET', path: '/health', auth: 'none' }],
    table: 'none',
    key: 'none',
    secrets: false,
    timeoutSeconds: 3,
  },
  {
    entry: 'connect',
    routes: [{ method: 'POST', path: '/connect/{integration}', auth: 'jwt' }],
    table: 'readWrite',
    key: 'none',
    secrets: true,
    timeoutSeconds: 10,
  },
  {
    entry: 'oauth-callback',
    routes: [{ method: 'GET', path: '/oauth/{integration}/callback', auth: 'none' }],
    table: 'readWrite',
    key: 'encryptDecrypt',
    secrets: true,
    timeoutSeconds: 20,
  },
  {
    entry: 'saml-acs',
    routes: [{ method: 'POST', path: '/saml/{integration}/acs', auth: 'none' }],
    table: 'readWrite',
    key: 'encryptDecrypt',
    secrets: true,
    timeoutSeconds: 20,
  },
  {
    entry: 'vend',
    routes: [{ method: 'GET', path: '/vend/{integration}', auth: 'jwt' }],
    table: 'readWrite',
    key: 'encryptDecrypt',
    secrets: true,
    timeoutSeconds: 30,
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
    timeoutSeconds: 20,
  },
  {
    entry: 'service-vend',
    routes: [{ method: 'GET', path: '/service/vend/{integration}/{connection}', auth: 'iam' }],
    table: 'readWrite',
    key: 'encryptDecrypt',
    secrets: true,
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
} as const;

/** Bundled next to each Lambda's code by the stack. */
export const BUNDLED_CONFIG_FILE = 'tokenvend.config.json';
export const BUNDLED_PROVIDERS_DIR = 'providers';
