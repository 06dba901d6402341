/**
 * One environment as the CLI sees it: its deployment config checked exactly as `cdk synth` checks it
 * (lib/deployment-config.ts), the secret id of each integration, the fields each secret needs, and the AWS
 * settings (region, endpoint, credentials) the AWS commands use.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import type { Integration } from '../functions/core/config/deployment.js';
import { type CheckedDeployment, isDeploymentConfigError, readDeployment } from '../lib/deployment-config.js';
import type { Io } from './io.js';
import { CliError, EXIT, usageError } from './output.js';

/** Environment names as the stack takes them (`tokenvend-<env>`, secrets under `tokenvend/<env>/`). */
const ENV_NAME = /^[a-z][a-z0-9-]{0,20}$/;

export const envOptions = {
  env: { type: 'string' },
  config: { type: 'string' },
} as const;

export const awsOptions = {
  region: { type: 'string' },
  'endpoint-url': { type: 'string' },
} as const;

export interface Environment {
  name: string;
  configFile: string;
  checked: CheckedDeployment;
  integration(id: string): Integration;
  /** `integrations.<id>.secretId`, else `tokenvend/<env>/<id>` (the stack's secret prefix). */
  secretId(id: string): string;
}

export function loadEnvironment(io: Io, values: Record<string, string | boolean | undefined>): Environment {
  const name = values.env;
  if (typeof name !== 'string') throw usageError('--env <env> is required (dev, staging, prod, ...)');
  if (!ENV_NAME.test(name))
    throw usageError(`--env ${name}: use lowercase letters, digits and dashes (max 21)`);
  const configFile = path.resolve(
    io.cwd,
    typeof values.config === 'string' ? values.config : path.join('config', `${name}.json`),
  );
  if (!existsSync(configFile)) {
    throw new CliError(
      `${path.relative(io.cwd, configFile) || configFile} does not exist`,
      EXIT.problem,
      'run in the repository root, or name the file with --config <file>',
    );
  }
  let checked: CheckedDeployment;
  try {
    checked = readDeployment(configFile);
  } catch (error) {
    if (isDeploymentConfigError(error)) throw new CliError(error.message, EXIT.problem);
    throw error;
  }
  return {
    name,
    configFile,
    checked,
    integration(id) {
      const integration = checked.deployment.integrations.get(id);
      if (!integration) {
        throw new CliError(
          `${checked.source} has no integration "${id}"`,
          EXIT.problem,
          `integrations: ${[...checked.deployment.integrations.keys()].join(', ') || 'none'}`,
        );
      }
      return integration;
    },
    secretId(id) {
      return checked.deployment.integrations.get(id)?.config.secretId ?? `tokenvend/${name}/${id}`;
    },
  };
}

/** A secret field an integration's grants need, and why. */
export interface NeededField {
  field: string;
  reason: string;
  required: boolean;
}

const PLACEHOLDER = /\$\{secret\.([A-Za-z0-9_.-]+)\}/g;

function secretPlaceholders(value: unknown, out: Set<string>): void {
  if (typeof value === 'string') for (const m of value.matchAll(PLACEHOLDER)) out.add(m[1] as string);
  else if (value && typeof value === 'object')
    for (const v of Object.values(value)) secretPlaceholders(v, out);
}

/**
 * The fields of the client secret document that the integration's grants use: `client_id` always;
 * `client_secret` for grants that authenticate the client (client credentials, SAML and JWT bearer, password;
 * optional for the authorization code grant, where a public client with PKCE may do without);
 * `${secret.*}` placeholders of the grants in use; what service connections need (`jwt_assertion`,
 * `username` and `password`).
 */
export function neededSecretFields(integration: Integration): NeededField[] {
  const { template } = integration.provider;
  const { config } = integration;
  const needed = new Map<string, NeededField>();
  const need = (field: string, reason: string, required = true) => {
    const seen = needed.get(field);
    if (!seen || (required && !seen.required)) needed.set(field, { field, reason, required });
  };
  need('client_id', 'every grant');
  const used = new Set<string>();
  if (template.grants.authorization_code) used.add('authorization_code');
  if (template.grants.refresh_token) used.add('refresh_token');
  if (config.saml) used.add('saml2_bearer');
  for (const connection of Object.values(config.serviceConnections)) used.add(connection.grant);
  for (const grant of used) {
    const spec = template.grants[grant as keyof typeof template.grants];
    if (!spec) continue;
    const placeholders = new Set<string>();
    secretPlaceholders(spec, placeholders);
    for (const field of placeholders) need(field, `the ${grant} grant's template`);
    if ('clientAuth' in spec && spec.clientAuth === 'private_key_jwt') {
      need('private_key', `the ${grant} grant (private_key_jwt, a PKCS#8 PEM)`);
      need('key_id', 'the JWT kid of the private key', false);
    } else if ('clientAuth' in spec && spec.clientAuth !== 'none') {
      const interactive = grant === 'authorization_code' || grant === 'refresh_token';
      need(
        'client_secret',
        interactive ? `${grant} (unless a public client with PKCE)` : `the ${grant} grant`,
        !interactive,
      );
    }
  }
  for (const [name, connection] of Object.entries(config.serviceConnections)) {
    const assertion = template.grants.jwt_bearer?.assertion;
    if (connection.grant === 'jwt_bearer') {
      if (assertion?.source === 'secret') need(assertion.field, `service connection ${name} (jwt_bearer)`);
      else if (assertion?.source === 'signed')
        need('private_key', `service connection ${name} (signed jwt_bearer)`);
      else need('jwt_assertion', `service connection ${name} (jwt_bearer)`);
    }
    if (connection.grant === 'password') {
      need('username', `service connection ${name} (password)`);
      need('password', `service connection ${name} (password)`);
    }
  }
  return [...needed.values()];
}

export interface AwsSettings {
  region: string;
  endpoint: string | undefined;
}

/** Region: --region, AWS_REGION, AWS_DEFAULT_REGION, the config's deploy.region. Endpoint: --endpoint-url, AWS_ENDPOINT_URL. */
export function awsSettings(
  io: Io,
  values: Record<string, string | boolean | undefined>,
  environment?: Environment,
): AwsSettings {
  const region =
    (values.region as string | undefined) ??
    io.env.AWS_REGION ??
    io.env.AWS_DEFAULT_REGION ??
    environment?.checked.config.deploy.region;
  if (!region) {
    throw usageError(
      'no AWS region',
      'pass --region <region>, set AWS_REGION, or set deploy.region in the config',
    );
  }
  const endpoint = (values['endpoint-url'] as string | undefined) ?? io.env.AWS_ENDPOINT_URL;
  return { region, endpoint: endpoint || undefined };
}

/** SDK client config for these settings (the SDK's default credential chain). */
export function clientConfig(settings: AwsSettings) {
  return {
    region: settings.region,
    ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
    maxAttempts: 2,
  };
}

/** Whether the default credential chain finds credentials (environment, profile, SSO, metadata, ...). */
export async function haveCredentials(): Promise<boolean> {
  try {
    await defaultProvider()();
    return true;
  } catch {
    return false;
  }
}

/** An AWS SDK failure as the CLI reports it: the error's name and our words, exit code 3. */
export function awsFailure(what: string, error: unknown): CliError {
  const name = (error as { name?: unknown }).name;
  const code = (error as { code?: unknown }).code;
  const label =
    typeof name === 'string' && name !== 'Error' ? name : typeof code === 'string' ? code : 'error';
  const hint =
    label === 'CredentialsProviderError'
      ? 'no AWS credentials: set AWS_PROFILE, run aws sso login, or export AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY'
      : /AccessDenied|UnrecognizedClient|InvalidSignature|ExpiredToken/.test(label)
        ? 'check the AWS credentials, the account and the region (--region)'
        : /ECONNREFUSED|ENOTFOUND|ETIMEDOUT|TimeoutError/.test(label)
          ? 'check the network and --endpoint-url'
          : undefined;
  return new CliError(`${what}: ${label}`, EXIT.unavailable, hint);
}
