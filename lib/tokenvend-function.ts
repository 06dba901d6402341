/**
 * One Lambda of the API: bundled with esbuild (ESM, Node 24, arm64), with the deployment config and the
 * provider templates copied beside the code, and exactly the permissions its spec names.
 */
import * as path from 'node:path';
import { ArnFormat, type CfnElement, Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import {
  BUNDLED_CONFIG_FILE,
  BUNDLED_PROVIDERS_DIR,
  ENV,
  type FunctionSpec,
} from '../functions/handlers/routes.js';
import type { TokenKey } from './token-key.js';

export interface TokenvendFunctionProps {
  spec: FunctionSpec;
  envName: string;
  /** Absolute path of the deployment config JSON bundled with the function. */
  configFile: string;
  projectRoot: string;
  table: dynamodb.ITableV2;
  key: TokenKey;
  secretPrefix: string;
}

export class TokenvendFunction extends Construct {
  readonly fn: nodejs.NodejsFunction;

  constructor(scope: Construct, id: string, props: TokenvendFunctionProps) {
    super(scope, id);
    const { spec, projectRoot } = props;
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
        [ENV.keyArn]: props.key.key.keyArn,
        [ENV.secretPrefix]: props.secretPrefix,
        [ENV.configFile]: BUNDLED_CONFIG_FILE,
        POWERTOOLS_SERVICE_NAME: 'tokenvend',
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
    if (spec.table === 'read') props.table.grantReadData(this.fn);
    if (spec.table === 'readWrite') props.table.grantReadWriteData(this.fn);
    if (spec.table !== 'none') {
      const tableId = Stack.of(this).getLogicalId(props.table.node.defaultChild as CfnElement);
      Validations.of(this.fn).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${tableId}.Arn>/index/*]`,
        reason: 'The grant covers the table’s own indexes (the refresh-due GSI), nothing else.',
      });
    }
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
