/**
 * One tokenvend Lambda (an API handler or a refresh function): bundled with esbuild (ESM, Node 24, arm64;
 * lib/bundle-options.ts) with the compiled deployment beside the code, X-Ray active tracing, its own log group,
 * and its own role holding exactly what its spec names: writing its own log group, the DynamoDB actions of
 * lib/permissions.ts, the token key under the cipher's encryption context, its secrets and its event bus.
 */
import * as path from 'node:path';
import { ArnFormat, Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { COMPILED_DEPLOYMENT_FILE } from '../functions/core/config/compiled.js';
import { ENV } from '../functions/handlers/routes.js';
import { BUNDLE_OPTIONS, handlerEntry } from './bundle-options.js';
import type { FunctionAccess } from './permissions.js';
import type { TokenKey } from './token-key.js';

/** What one Lambda is and may touch. */
export interface LambdaSpec {
  /** File under functions/handlers/ (without `.ts`), exporting `handler`. */
  readonly entry: string;
  readonly timeoutSeconds: number;
  /** DynamoDB and KMS (lib/permissions.ts). */
  readonly access: FunctionAccess;
  /** Reads client secrets under the environment's Secrets Manager prefix. */
  readonly secrets: boolean;
  /** Publishes connection events: gets the bus name and events:PutEvents on that bus only. */
  readonly events: boolean;
}

export interface TokenvendFunctionProps {
  spec: LambdaSpec;
  envName: string;
  /** Absolute path of the compiled deployment (written at synth) copied beside the bundle. */
  compiledFile: string;
  /** The deployment's integration ids: the only `integration` values of the key's encryption context. */
  integrations: readonly string[];
  projectRoot: string;
  table: dynamodb.ITableV2;
  key: TokenKey;
  secretPrefix: string;
  /** The bus connection events go to; required when `spec.events`. */
  eventBus?: events.IEventBus;
  /** More environment variables (the refresh queues of the planner). */
  environment?: Record<string, string>;
  /** How long the function's log group keeps its logs. */
  logRetention: logs.RetentionDays;
  /** Keep the log group when the stack is deleted. */
  retainLogs: boolean;
  /** The audit trail's log group: every function may write records there (never read them). */
  auditLog?: logs.ILogGroup;
}

/** Every function reports metrics under one namespace and one `service` dimension (Powertools). */
export const POWERTOOLS_ENVIRONMENT = {
  POWERTOOLS_SERVICE_NAME: 'tokenvend',
  POWERTOOLS_METRICS_NAMESPACE: 'tokenvend',
} as const;

/** Lambda's active tracing writes with these two actions, which support no resource-level permission. */
export const XRAY_ACTIONS = ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'] as const;

export class TokenvendFunction extends Construct {
  readonly fn: nodejs.NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: TokenvendFunctionProps) {
    super(scope, id);
    const { spec, projectRoot } = props;
    if (spec.events && !props.eventBus)
      throw new Error(`${spec.entry}: publishes events but no eventBus was given`);
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention,
      removalPolicy: props.retainLogs ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    // Its own role instead of AWSLambdaBasicExecutionRole (logs on `*`): it may write its own log group only.
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `tokenvend ${props.envName}: the ${spec.entry} function`,
    });
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        // The log group's ARN attribute ends in `:*`: its log streams, nothing outside the group.
        resources: [this.logGroup.logGroupArn],
      }),
    );
    this.fn = new nodejs.NodejsFunction(this, 'Function', {
      entry: handlerEntry(projectRoot, spec.entry),
      handler: 'handler',
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 512,
      timeout: Duration.seconds(spec.timeoutSeconds),
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      tracing: lambda.Tracing.ACTIVE,
      projectRoot,
      depsLockFilePath: path.join(projectRoot, 'package-lock.json'),
      environment: {
        [ENV.environment]: props.envName,
        [ENV.tableName]: props.table.tableName,
        // Names only: the shared App wiring (functions/handlers/runtime/aws-app.ts) reads them in every
        // function; what a function may do with them is the spec's grants below.
        [ENV.keyArn]: props.key.key.keyArn,
        [ENV.secretPrefix]: props.secretPrefix,
        [ENV.configFile]: COMPILED_DEPLOYMENT_FILE,
        ...(props.eventBus && spec.events ? { [ENV.eventBus]: props.eventBus.eventBusName } : {}),
        ...(props.auditLog ? { [ENV.auditLogGroup]: props.auditLog.logGroupName } : {}),
        ...POWERTOOLS_ENVIRONMENT,
        ...props.environment,
        NODE_OPTIONS: '--enable-source-maps',
      },
      bundling: {
        format: nodejs.OutputFormat.ESM,
        target: BUNDLE_OPTIONS.target,
        mainFields: [...BUNDLE_OPTIONS.mainFields],
        minify: BUNDLE_OPTIONS.minify,
        sourceMap: BUNDLE_OPTIONS.sourceMap,
        banner: BUNDLE_OPTIONS.banner,
        externalModules: [...BUNDLE_OPTIONS.externalModules],
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          // The deployment checked and compiled at synth; no config file and no provider templates to parse.
          afterBundling: (_input: string, output: string) => [
            `cp ${JSON.stringify(props.compiledFile)} ${JSON.stringify(path.join(output, COMPILED_DEPLOYMENT_FILE))}`,
          ],
        },
      },
    });
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: `Lambda active tracing: ${XRAY_ACTIONS.join(' and ')} support no resource-level permissions (the X-Ray service authorization reference lists no resource type for them); the statement holds nothing else.`,
    });
    for (const { actions, index } of spec.access.table) {
      this.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: [...actions],
          resources: [index ? `${props.table.tableArn}/index/${index}` : props.table.tableArn],
        }),
      );
    }
    if (spec.access.key) props.key.grantUse(this.role, spec.access.key, props.integrations);
    if (spec.events) props.eventBus?.grantPutEventsTo(this.role);
    // CreateLogStream and PutLogEvents on the audit group only: a function can add records, not read or delete them.
    props.auditLog?.grantWrite(this.role);
    if (spec.secrets) {
      const stack = Stack.of(this);
      this.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['secretsmanager:GetSecretValue'],
          resources: [
            stack.formatArn({
              service: 'secretsmanager',
              resource: 'secret',
              resourceName: `${props.secretPrefix}*`,
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          ],
        }),
      );
      // cdk-nag names the finding by the rendered ARN: tokens render as <AWS::...>, concrete values as they are.
      const region = Token.isUnresolved(stack.region) ? '<AWS::Region>' : stack.region;
      const account = Token.isUnresolved(stack.account) ? '<AWS::AccountId>' : stack.account;
      Validations.of(this.role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:${region}:${account}:secret:${props.secretPrefix}*]`,
        reason:
          'Each integration has its own secret under the environment prefix; the suffix wildcard covers Secrets Manager’s random ARN suffix and integrations added by config.',
      });
    }
  }

  /** Lambda `Errors` (unhandled errors and timeouts) summed over five minutes. */
  metricErrors(): cloudwatch.Metric {
    return this.fn.metricErrors({ statistic: cloudwatch.Stats.SUM, period: Duration.minutes(5) });
  }

  /** Lambda `Throttles` (invocations refused for concurrency) summed over five minutes. */
  metricThrottles(): cloudwatch.Metric {
    return this.fn.metricThrottles({ statistic: cloudwatch.Stats.SUM, period: Duration.minutes(5) });
  }
}
