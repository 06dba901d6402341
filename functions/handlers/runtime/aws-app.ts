/**
 * The App of a Lambda container in AWS: the deployment compiled at synth (checked there, only read here: no
 * schema library or YAML parser in the bundle, see core/config/compiled.ts) and the environment the stack sets,
 * DynamoDB, KMS envelope encryption and Secrets Manager. Built once, on the first request.
 */
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Logger } from '@aws-lambda-powertools/logger';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { KMSClient } from '@aws-sdk/client-kms';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { CloudWatchAuditTransport } from '../../adapters/audit/index.js';
import { CallerAuthError } from '../../adapters/caller-auth/errors.js';
import type { TrustedCaller } from '../../adapters/caller-auth/index.js';
import { type CallerVerifier, createCheckedCallerVerifier } from '../../adapters/caller-auth/verifier.js';
import { createKmsCipher } from '../../adapters/crypto/index.js';
import { EventBridgeEventSink } from '../../adapters/eventbridge/index.js';
import { SecretsManagerSecretSource } from '../../adapters/secrets/index.js';
import { SqsRefreshQueue } from '../../adapters/sqs/index.js';
import { PowertoolsTelemetry } from '../../adapters/telemetry/index.js';
import { COMPILED_DEPLOYMENT_FILE, loadCompiledDeployment } from '../../core/config/compiled.js';
import { ConfigError } from '../../core/errors.js';
import { ENV } from '../routes.js';
import { type AppLogger, type AppProvider, memoize } from './app.js';
import { AuditTrail } from './audit-trail.js';
import { buildApp } from './build-app.js';

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new ConfigError(`environment variable ${name} is not set`);
  return value;
}

/** A deployment that serves only SAML and service routes trusts no caller JWT at all. */
const noTrustedCallers: CallerVerifier = {
  verify: async () => Promise.reject(new CallerAuthError('untrusted_issuer')),
  hydrate: async () => undefined,
};

async function build() {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const configFile = path.resolve(here, process.env[ENV.configFile] ?? COMPILED_DEPLOYMENT_FILE);
  let compiled: unknown;
  try {
    compiled = JSON.parse(await readFile(configFile, 'utf8'));
  } catch (error) {
    throw new ConfigError(`cannot read the compiled deployment ${path.basename(configFile)}`, error);
  }
  const deployment = loadCompiledDeployment(compiled, path.basename(configFile));
  const secretPrefix = required(ENV.secretPrefix);
  const logger = new Logger({ serviceName: 'tokenvend' });
  const busName = process.env[ENV.eventBus];
  const queues = process.env[ENV.refreshQueues];
  let queueUrls: Record<string, string> | undefined;
  if (queues) {
    try {
      queueUrls = JSON.parse(queues) as Record<string, string>;
    } catch (error) {
      throw new ConfigError(`environment variable ${ENV.refreshQueues} is not a JSON object`, error);
    }
  }
  return buildApp({
    deployment,
    dynamo: { client: new DynamoDBClient({}), tableName: required(ENV.tableName) },
    cipher: createKmsCipher({ keyId: required(ENV.keyArn), kms: new KMSClient({}) }),
    secrets: new SecretsManagerSecretSource({
      client: new SecretsManagerClient({}),
      secretIds: (id) => {
        const integration = deployment.integrations.get(id);
        return integration ? (integration.config.secretId ?? `${secretPrefix}${id}`) : undefined;
      },
    }),
    events: busName
      ? new EventBridgeEventSink({
          client: new EventBridgeClient({}),
          busName,
          onError: (problem) => logger.error('connection event not published', { code: problem.code }),
        })
      : undefined,
    telemetry: new PowertoolsTelemetry(),
    refreshQueue: queueUrls
      ? new SqsRefreshQueue({
          client: new SQSClient({}),
          queueUrlFor: (id) => (Object.hasOwn(queueUrls, id) ? queueUrls[id] : undefined),
        })
      : undefined,
    scheduleLeadSeconds: deployment.config.refresh.scheduleMinutes * 60,
    callers: deployment.config.callers.length
      ? // Checked at synth by the caller-auth schema (lib/deployment-config.ts): same values, nothing to parse.
        createCheckedCallerVerifier(deployment.config.callers as readonly TrustedCaller[])
      : noTrustedCallers,
    logger: appLogger(logger),
    audit: auditTrail(logger),
  });
}

/** The audit trail into the stack's dedicated log group; none when the stack names no group. */
function auditTrail(logger: Logger): AuditTrail | undefined {
  const logGroupName = process.env[ENV.auditLogGroup];
  if (!logGroupName) return undefined;
  return new AuditTrail(
    new CloudWatchAuditTransport({
      client: new CloudWatchLogsClient({}),
      logGroupName,
      streamPrefix: process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'tokenvend',
      // A lost record is never silent: an error line in the function's own log, with the count.
      onError: (problem) => logger.error('audit records not written', { ...problem }),
    }),
  );
}

/** The container's logger: Powertools JSON lines, each with the invocation's request id once added. */
export function appLogger(logger: Logger): AppLogger {
  return {
    error: (message, details) => logger.error(message, details),
    info: (message, details) => logger.info(message, details),
    addContext: (context) => logger.addContext(context),
  };
}

/** Shared by every handler module of the bundle; built on first use, retried after a failed cold start. */
export const awsApp: AppProvider = memoize(build);
