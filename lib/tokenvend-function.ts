/**
 * One tokenvend Lambda (an API handler or a refresh function): bundled with esbuild (ESM, Node 24, arm64), with
 * the deployment config and the provider templates copied beside the code, and exactly the permissions its
 * spec names.
 */
import * as path from 'node:path';
import { ArnFormat, type CfnElement, Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import {
  BUNDLED_CONFIG_FILE,
  BUNDLED_PROVIDERS_DIR,
  ENV,
  type KeyAccess,
  type TableAccess,
} from '../functions/handlers/routes.js';
import type { TokenKey } from './token-key.js';

/** Exactly these DynamoDB actions, on the table itself or on one of its indexes (never `index/*`). */
export interface TableActions {
  readonly actions: readonly string[];
  /** Index name: the actions apply to `<table ARN>/index/<index>` only, not to the table. */
  readonly index?: string;
}

/**
 * What one Lambda is and may touch. Every `FunctionSpec` of the HTTP contract (routes.ts) is one (its routes
 * are the stack's business); the refresh pipeline declares its functions with narrower {@link TableActions}.
 */
export interface LambdaSpec {
  /** File under functions/handlers/ (without `.ts`), exporting `handler`. */
  readonly entry: string;
  readonly timeoutSeconds: number;
  readonly table: TableAccess | TableActions;
  readonly key: KeyAccess;
  /** Reads client secrets under the environment's Secrets Manager prefix. */
  readonly secrets: boolean;
  /** Publishes connection events: gets the bus name and events:PutEvents on that bus only. */
  readonly events: boolean;
}

export interface TokenvendFunctionProps {
  spec: LambdaSpec;
  envName: string;
  /** Absolute path of the deployment config JSON bundled with the function. */
  configFile: string;
  projectRoot: string;
  table: dynamodb.ITableV2;
  key: TokenKey;
  secretPrefix: string;
  /** The bus connection events go to; required when `spec.events`. */
  eventBus?: events.IEventBus;
  /** More environment variables (the refresh queues of the planner). */
  environment?: Record<string, string>;
}

/** Every function reports metrics under one namespace and one `service` dimension (Powertools). */
export const POWERTOOLS_ENVIRONMENT = {
  POWERTOOLS_SERVICE_NAME: 'tokenvend',
  POWERTOOLS_METRICS_NAMESPACE: 'tokenvend',
} as const;

export class TokenvendFunction extends Construct {
  readonly fn: nodejs.NodejsFunction;

  constructor(scope: Construct, id: string, props: TokenvendFunctionProps) {
    super(scope, id);
    const { spec, projectRoot } = props;
    if (spec.events && !props.eventBus)
      throw new Error(`${spec.entry}: publishes events but no eventBus was given`);
    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const providersDir = path.join(projectRoot, 'providers');
    this.fn = new nodejs.NodejsFunction(this, 'Function', {
      entry: path.join(projectRoot, 'functions', 'handlers', `${spec.entry}.ts`),
      handler: 'handler',
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 512,
      timeout: Duration.seconds(spec.timeoutSeconds),
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      projectRoot,
      depsLockFilePath: path.join(projectRoot, 'package-lock.json'),
      environment: {
        [ENV.environment]: props.envName,
        [ENV.tableName]: props.table.tableName,
        // Names only: the shared App wiring (functions/handlers/runtime/aws-app.ts) reads them in every
        // function; what a function may do with them is the spec's grants below.
        [ENV.keyArn]: props.key.key.keyArn,
        [ENV.secretPrefix]: props.secretPrefix,
        [ENV.configFile]: BUNDLED_CONFIG_FILE,
        ...(props.eventBus && spec.events ? { [ENV.eventBus]: props.eventBus.eventBusName } : {}),
        ...POWERTOOLS_ENVIRONMENT,
        ...props.environment,
        NODE_OPTIONS: '--enable-source-maps',
      },
      bundling: {
        format: nodejs.OutputFormat.ESM,
        target: 'node24',
        mainFields: ['module', 'main'],
        minify: true,
        sourceMap: true,
        banner:
          "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          afterBundling: (_input: string, output: string) => [
            `cp ${JSON.stringify(props.configFile)} ${JSON.stringify(path.join(output, BUNDLED_CONFIG_FILE))}`,
            `cp -r ${JSON.stringify(providersDir)} ${JSON.stringify(path.join(output, BUNDLED_PROVIDERS_DIR))}`,
          ],
        },
      },
    });
    if (typeof spec.table === 'object') {
      const { actions, index } = spec.table;
      this.fn.addToRolePolicy(
        new iam.PolicyStatement({
          actions: [...actions],
          resources: [index ? `${props.table.tableArn}/index/${index}` : props.table.tableArn],
        }),
      );
    } else if (spec.table !== 'none') {
      if (spec.table === 'read') props.table.grantReadData(this.fn);
      if (spec.table === 'readWrite') props.table.grantReadWriteData(this.fn);
      const tableId = Stack.of(this).getLogicalId(props.table.node.defaultChild as CfnElement);
      Validations.of(this.fn).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${tableId}.Arn>/index/*]`,
        reason: 'The grant covers the table’s own indexes (the refresh-due GSI), nothing else.',
      });
    }
    if (spec.events) props.eventBus?.grantPutEventsTo(this.fn);
    if (spec.key === 'decrypt') props.key.grantRead(this.fn);
    if (spec.key === 'encryptDecrypt') props.key.grantReadWrite(this.fn);
    if (spec.secrets) {
      const stack = Stack.of(this);
      this.fn.addToRolePolicy(
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
      Validations.of(this.fn).acknowledge({
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:${region}:${account}:secret:${props.secretPrefix}*]`,
        reason:
          'Each integration has its own secret under the environment prefix; the suffix wildcard covers Secrets Manager’s random ARN suffix and integrations added by config.',
      });
    }
  }
}
