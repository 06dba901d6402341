/**
 * CDK assertions on the per-environment stack: the data model's table (keys, TTL, refresh-due index), the KMS
 * key, one Node 24 Lambda per handler with its own role holding exactly its actions (DynamoDB per lib/permissions.ts,
 * the token key only under the cipher's encryption context, its own log group, X-Ray), every route of the
 * contract, the IAM authorizer on the service route, throttling, the custom domain, the event bus, the
 * scheduled refresh pipeline (schedule, queues, dead-letter queue, planner and worker with their exact
 * permissions), the alarms, log retention, and a clean cdk-nag AwsSolutions report.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, type CfnElement, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import * as iamLib from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as lambdaLib from 'aws-cdk-lib/aws-lambda';
import { AwsSolutionsChecks } from 'cdk-nag';
import { REFRESH_DUE_INDEX, TABLE } from '../../functions/adapters/dynamodb/schema.js';
import type { DeploymentConfigInput } from '../../functions/core/config/schema.js';
import { ENV, FUNCTIONS, REFRESH_FUNCTIONS } from '../../functions/handlers/routes.js';
import { TokenvendStack } from '../../lib/tokenvend-stack.js';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

function synth(
  envName = 'test',
  configFile = path.join(projectRoot, 'config', 'dev.json'),
  retainData: boolean | undefined = false,
) {
  // Asset bundling (esbuild) is exercised by `cdk synth` (cli-synth.test.ts); here it would only slow the assertions down.
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new TokenvendStack(app, `tokenvend-${envName}`, {
    envName,
    configFile,
    projectRoot,
    retainData,
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack, template: Template.fromStack(stack) };
}

function nagErrors(app: App): string[] {
  const assembly = app.synth();
  return assembly.stacks.flatMap((s) =>
    s.messages.filter((m) => m.level === 'error').map((m) => `${m.id}: ${String(m.entry.data)}`),
  );
}

let tmpDir: string | undefined;
function writeConfig(config: DeploymentConfigInput | Record<string, unknown>): string {
  tmpDir ??= fs.mkdtempSync(path.join(os.tmpdir(), 'tokenvend-infra-'));
  const file = path.join(tmpDir, `config-${fs.readdirSync(tmpDir).length}.json`);
  fs.writeFileSync(file, JSON.stringify(config));
  return file;
}
afterAll(() => {
  if (tmpDir) fs.rmSync(tmpDir, { recursive: true, force: true });
});

type Json = Record<string, unknown>;
interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

/** What every function's role holds besides its own grants: its log group and Lambda's X-Ray tracing. */
const BASELINE_ACTIONS = [
  'logs:CreateLogStream',
  'logs:PutLogEvents',
  'xray:PutTelemetryRecords',
  'xray:PutTraceSegments',
];

function logicalId(stack: TokenvendStack, construct: { node: { defaultChild?: unknown } }): string {
  return stack.getLogicalId(construct.node.defaultChild as CfnElement);
}

function functionResource(template: Template, stack: TokenvendStack, fn: lambda.IFunction): Json {
  return template.toJSON().Resources[logicalId(stack, fn)].Properties as Json;
}

function envOf(template: Template, stack: TokenvendStack, fn: lambda.IFunction): Record<string, unknown> {
  return (functionResource(template, stack, fn).Environment as { Variables: Record<string, unknown> })
    .Variables;
}

/** The statements of the function role's inline (default) policy; none when the role has no policy. */
function statementsOf(template: Template, stack: TokenvendStack, fn: lambda.IFunction): Statement[] {
  const policy = fn.role?.node.tryFindChild('DefaultPolicy') as
    | { node: { defaultChild?: unknown } }
    | undefined;
  if (!policy) return [];
  const resource = template.toJSON().Resources[logicalId(stack, policy)];
  return resource.Properties.PolicyDocument.Statement as Statement[];
}

/** The statements beyond the logs and X-Ray ones every function has. */
function grantsOf(statements: Statement[]): Statement[] {
  return statements.filter((s) => !actionsOf([s]).every((a) => BASELINE_ACTIONS.includes(a)));
}

function actionsOf(statements: Statement[]): string[] {
  return [...new Set(statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action])))].sort();
}

/** Every statement naming `action`. */
function withAction(statements: Statement[], action: string): Statement[] {
  return statements.filter((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]).includes(action));
}

function getAtt(stack: TokenvendStack, construct: { node: { defaultChild?: unknown } }, attribute: string) {
  return { 'Fn::GetAtt': [logicalId(stack, construct), attribute] };
}

function ref(stack: TokenvendStack, construct: { node: { defaultChild?: unknown } }) {
  return { Ref: logicalId(stack, construct) };
}

/** Renders a CloudFormation `Fn::Join` of strings and `{Ref}`s, with each Ref as `ref:<logical id>`. */
function renderJoin(value: unknown): string {
  const join = (value as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
  return join[1]
    .map((part) => (typeof part === 'string' ? part : `ref:${(part as { Ref: string }).Ref}`))
    .join(join[0]);
}

describe('TokenvendStack', () => {
  const { template, app, stack } = synth();

  it('has one table with pk/sk, TTL and the sharded refresh-due index', () => {
    template.resourceCountIs('AWS::DynamoDB::GlobalTable', 1);
    template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      KeySchema: [
        { AttributeName: TABLE.partitionKey, KeyType: 'HASH' },
        { AttributeName: TABLE.sortKey, KeyType: 'RANGE' },
      ],
      TimeToLiveSpecification: { AttributeName: TABLE.ttlAttribute, Enabled: true },
      GlobalSecondaryIndexes: [
        Match.objectLike({
          IndexName: REFRESH_DUE_INDEX.name,
          KeySchema: [
            { AttributeName: REFRESH_DUE_INDEX.partitionKey, KeyType: 'HASH' },
            { AttributeName: REFRESH_DUE_INDEX.sortKey, KeyType: 'RANGE' },
          ],
        }),
      ],
    });
  });

  it('has a rotating KMS key for envelope encryption', () => {
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      Description: Match.stringLikeRegexp('tokens at rest'),
    });
  });

  it('runs every handler and both refresh functions on Node 24', () => {
    const functions = template.findResources('AWS::Lambda::Function', {
      Properties: { Runtime: 'nodejs24.x', Handler: 'index.handler' },
    });
    expect(Object.keys(functions)).toHaveLength(FUNCTIONS.length + 2);
  });

  it('routes every path of the contract, the service route behind IAM', () => {
    const routes = template.findResources('AWS::ApiGatewayV2::Route');
    const keys = Object.values(routes).map(
      (r) => (r as { Properties: { RouteKey: string } }).Properties.RouteKey,
    );
    const expected = FUNCTIONS.flatMap((f) => f.routes.map((r) => `${r.method} ${r.path}`));
    expect(keys.sort()).toEqual(expected.sort());
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
      RouteKey: 'GET /service/vend/{integration}/{connection}',
      AuthorizationType: 'AWS_IAM',
    });
  });

  it('gives the health function no table, key or secret access', () => {
    const health = stack.functions.get('health');
    expect(health).toBeDefined();
    expect(grantsOf(statementsOf(template, stack, health as lambda.IFunction))).toEqual([]);
  });

  it('lets only secret-reading functions (and the refresh worker) read this environment’s secrets', () => {
    const policies = Object.values(template.findResources('AWS::IAM::Policy')).map((p) => JSON.stringify(p));
    const withSecrets = policies.filter((p) => p.includes('secretsmanager:GetSecretValue'));
    expect(withSecrets).toHaveLength(FUNCTIONS.filter((f) => f.secrets).length + 1);
    for (const p of withSecrets) expect(p).toContain('secret:tokenvend/test/*');
  });

  it('has the environment’s event bus; only publishing functions get its name and events:PutEvents on it', () => {
    template.hasResourceProperties('AWS::Events::EventBus', { Name: 'tokenvend-test' });
    template.hasOutput('EventBusName', { Value: ref(stack, stack.eventBus) });
    const busArn = getAtt(stack, stack.eventBus, 'Arn');
    const all: [string, lambda.IFunction, boolean][] = [
      ...FUNCTIONS.map((f): [string, lambda.IFunction, boolean] => [
        f.entry,
        stack.functions.get(f.entry) as lambda.IFunction,
        f.events,
      ]),
      ['planner', stack.refresh.planner, false],
      ['worker', stack.refresh.worker, true],
    ];
    for (const [entry, fn, publishes] of all) {
      const statements = statementsOf(template, stack, fn);
      const puts = withAction(statements, 'events:PutEvents');
      const env = envOf(template, stack, fn);
      if (publishes) {
        expect({ entry, puts }).toEqual({
          entry,
          puts: [{ Effect: 'Allow', Action: 'events:PutEvents', Resource: busArn }],
        });
        expect({ entry, bus: env[ENV.eventBus] }).toEqual({ entry, bus: ref(stack, stack.eventBus) });
      } else {
        expect({ entry, puts }).toEqual({ entry, puts: [] });
        expect({ entry, bus: env[ENV.eventBus] }).toEqual({ entry, bus: undefined });
      }
      expect(actionsOf(statements).filter((a) => a.startsWith('events:'))).toEqual(
        publishes ? ['events:PutEvents'] : [],
      );
    }
  });

  it('names the Powertools service and metrics namespace on every function', () => {
    const functions = Object.values(template.findResources('AWS::Lambda::Function'));
    expect(functions).toHaveLength(FUNCTIONS.length + 2);
    for (const f of functions) {
      expect(f.Properties.Environment.Variables).toMatchObject({
        POWERTOOLS_SERVICE_NAME: 'tokenvend',
        POWERTOOLS_METRICS_NAMESPACE: 'tokenvend',
      });
    }
  });

  it('applies the refresh defaults when the config has no refresh section', () => {
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(1 minute)' });
    const queue = stack.refresh.queues.get('genesys-eu');
    expect(queue).toBeDefined();
    template.hasResourceProperties('AWS::SQS::Queue', {
      VisibilityTimeout: 360,
      RedrivePolicy: { maxReceiveCount: 5, deadLetterTargetArn: Match.anyValue() },
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      ScalingConfig: { MaximumConcurrency: 2 },
    });
    expect(functionResource(template, stack, stack.refresh.worker).Timeout).toBe(60);
  });

  it('passes the cdk-nag AwsSolutions checks', () => {
    expect(nagErrors(app)).toEqual([]);
  });
});

describe('TokenvendStack refresh pipeline', () => {
  const config = {
    integrations: {
      'genesys-eu': {
        provider: 'genesys-cloud',
        vars: { region: 'mypurecloud.ie', orgName: 'acme' },
      },
      'ringcentral-us': {
        provider: 'ringcentral',
        refresh: { maxConcurrency: 7 },
      },
    },
    refresh: { scheduleMinutes: 5, workerTimeoutSeconds: 90, maxReceiveCount: 3, maxConcurrency: 4 },
  } satisfies DeploymentConfigInput;
  const { template, app, stack } = synth('refresh', writeConfig(config));
  const pipeline = stack.refresh;
  const integrations = Object.keys(config.integrations);
  const queue = (id: string) => {
    const q = pipeline.queues.get(id);
    if (!q) throw new Error(`no queue for ${id}`);
    return q;
  };
  const tableArn = getAtt(stack, stack.node.findChild('Tokens').node.findChild('Table'), 'Arn');

  it('runs the planner on an EventBridge schedule every scheduleMinutes, without retries', () => {
    template.resourceCountIs('AWS::Events::Rule', 1);
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(5 minutes)',
      State: 'ENABLED',
      Targets: [Match.objectLike({ Arn: getAtt(stack, pipeline.planner, 'Arn') })],
    });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: ref(stack, pipeline.planner),
      MaximumRetryAttempts: 0,
    });
    expect(functionResource(template, stack, pipeline.planner).Timeout).toBe(
      REFRESH_FUNCTIONS.planner.timeoutSeconds,
    );
  });

  it('has one encrypted, TLS-only queue per integration with redrive to the dead-letter queue', () => {
    template.resourceCountIs('AWS::SQS::Queue', integrations.length + 1);
    expect([...pipeline.queues.keys()].sort()).toEqual([...integrations].sort());
    for (const id of integrations) {
      expect(template.toJSON().Resources[logicalId(stack, queue(id))].Properties).toEqual({
        SqsManagedSseEnabled: true,
        VisibilityTimeout: 6 * 90,
        RedrivePolicy: {
          deadLetterTargetArn: getAtt(stack, pipeline.deadLetterQueue, 'Arn'),
          maxReceiveCount: 3,
        },
      });
    }
    expect(template.toJSON().Resources[logicalId(stack, pipeline.deadLetterQueue)].Properties).toEqual({
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 14 * 24 * 3600,
    });
    const sslOnly = template.findResources('AWS::SQS::QueuePolicy', {
      Properties: {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Deny',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
          ]),
        },
      },
    });
    const covered = Object.values(sslOnly).flatMap((p) => p.Properties.Queues as unknown[]);
    expect(covered).toEqual(
      expect.arrayContaining([
        ...integrations.map((id) => ref(stack, queue(id))),
        ref(stack, pipeline.deadLetterQueue),
      ]),
    );
  });

  it('gives the planner the App’s variables and the queue URLs by integration, but no event bus', () => {
    const env = envOf(template, stack, pipeline.planner);
    expect(Object.keys(env).sort()).toEqual(
      [
        ENV.environment,
        ENV.tableName,
        ENV.keyArn,
        ENV.secretPrefix,
        ENV.configFile,
        ENV.refreshQueues,
        ENV.auditLogGroup,
        'POWERTOOLS_SERVICE_NAME',
        'POWERTOOLS_METRICS_NAMESPACE',
        'NODE_OPTIONS',
      ].sort(),
    );
    expect(env[ENV.tableName]).toEqual(ref(stack, stack.node.findChild('Tokens').node.findChild('Table')));
    expect(JSON.parse(renderJoin(env[ENV.refreshQueues]))).toEqual(
      Object.fromEntries(integrations.map((id) => [id, `ref:${logicalId(stack, queue(id))}`])),
    );
  });

  it('lets the planner only Query the refresh-due index and send to the refresh queues', () => {
    const statements = grantsOf(statementsOf(template, stack, pipeline.planner));
    expect(statements).toEqual([
      {
        Effect: 'Allow',
        Action: 'dynamodb:Query',
        Resource: { 'Fn::Join': ['', [tableArn, `/index/${REFRESH_DUE_INDEX.name}`]] },
      },
      {
        Effect: 'Allow',
        Action: 'sqs:SendMessage',
        Resource: integrations.map((id) => getAtt(stack, queue(id), 'Arn')),
      },
    ]);
    const actions = actionsOf(statements);
    expect(actions.filter((a) => a.startsWith('kms:') || a.startsWith('secretsmanager:'))).toEqual([]);
    expect(actions).not.toContain('dynamodb:Scan');
    expect(actions).not.toContain('dynamodb:PutItem');
  });

  it('consumes every refresh queue in batches of 10 with partial failures and a concurrency cap per integration', () => {
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', integrations.length);
    const expected: Record<string, number> = { 'genesys-eu': 4, 'ringcentral-us': 7 };
    for (const id of integrations) {
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        FunctionName: ref(stack, pipeline.worker),
        EventSourceArn: getAtt(stack, queue(id), 'Arn'),
        BatchSize: 10,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        ScalingConfig: { MaximumConcurrency: expected[id] },
      });
    }
    expect(functionResource(template, stack, pipeline.worker).Timeout).toBe(90);
  });

  it('gives the worker exactly its actions, the table ones on the table only', () => {
    const statements = statementsOf(template, stack, pipeline.worker);
    expect(actionsOf(statements)).toEqual(
      [
        ...BASELINE_ACTIONS,
        'dynamodb:GetItem',
        'dynamodb:UpdateItem',
        'events:PutEvents',
        'kms:Decrypt',
        'kms:GenerateDataKey',
        'secretsmanager:GetSecretValue',
        // The SQS event source's consumer grant on the refresh queues.
        'sqs:ChangeMessageVisibility',
        'sqs:DeleteMessage',
        'sqs:GetQueueAttributes',
        'sqs:GetQueueUrl',
        'sqs:ReceiveMessage',
      ].sort(),
    );
    const table = statements.filter((s) => actionsOf([s]).some((a) => a.startsWith('dynamodb:')));
    expect(table).toEqual([
      { Effect: 'Allow', Action: ['dynamodb:GetItem', 'dynamodb:UpdateItem'], Resource: tableArn },
    ]);
    const consumed = statements
      .filter((s) => actionsOf([s]).some((a) => a.startsWith('sqs:')))
      .map((s) => s.Resource);
    expect(consumed.sort()).toEqual(integrations.map((id) => getAtt(stack, queue(id), 'Arn')).sort());
    const key = withAction(statements, 'kms:Decrypt');
    expect(key.map((s) => s.Resource)).toEqual([
      getAtt(stack, stack.node.findChild('TokenKey').node.findChild('Key'), 'Arn'),
    ]);
    const env = envOf(template, stack, pipeline.worker);
    expect(Object.keys(env).sort()).toEqual(
      [
        ENV.environment,
        ENV.tableName,
        ENV.keyArn,
        ENV.secretPrefix,
        ENV.configFile,
        ENV.eventBus,
        ENV.auditLogGroup,
        'POWERTOOLS_SERVICE_NAME',
        'POWERTOOLS_METRICS_NAMESPACE',
        'NODE_OPTIONS',
      ].sort(),
    );
    expect(env[ENV.secretPrefix]).toBe('tokenvend/refresh/');
  });

  it('alarms on dead letters, old queue messages, refresh failures and invalid_client, notifying the alarm topic', () => {
    const refreshAlarms = new Set(pipeline.alarms.map((a) => logicalId(stack, a)));
    const alarms = Object.fromEntries(
      Object.entries(template.findResources('AWS::CloudWatch::Alarm')).filter(([id]) =>
        refreshAlarms.has(id),
      ),
    );
    expect(Object.keys(alarms)).toHaveLength(1 + 3 * integrations.length);
    const topic = { Ref: logicalId(stack, stack.node.findChild('Alarms').node.findChild('Topic')) };
    for (const alarm of Object.values(alarms)) {
      expect(alarm.Properties).toMatchObject({
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        EvaluationPeriods: 1,
        TreatMissingData: 'notBreaching',
        AlarmActions: [topic],
      });
    }
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: getAtt(stack, pipeline.deadLetterQueue, 'QueueName') }],
      Threshold: 1,
    });
    for (const id of integrations) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateAgeOfOldestMessage',
        Dimensions: [{ Name: 'QueueName', Value: getAtt(stack, queue(id), 'QueueName') }],
        Threshold: 600,
      });
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'tokenvend',
        MetricName: 'RefreshFailed',
        Dimensions: [
          { Name: 'integration', Value: id },
          { Name: 'service', Value: 'tokenvend' },
        ],
        Statistic: 'Sum',
        Period: 300,
        Threshold: 5,
      });
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'tokenvend',
        MetricName: 'RefreshFailed',
        Dimensions: [
          { Name: 'class', Value: 'invalid_client' },
          { Name: 'integration', Value: id },
          { Name: 'service', Value: 'tokenvend' },
        ],
        Statistic: 'Sum',
        Threshold: 1,
      });
    }
  });

  it('encrypts the alarm topic with a key CloudWatch may use, and lets only this account’s alarms publish', () => {
    const alarmTopic = stack.node.findChild('Alarms');
    template.hasResourceProperties('AWS::SNS::Topic', {
      KmsMasterKeyId: getAtt(stack, alarmTopic.node.findChild('Key'), 'Arn'),
    });
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: 'sns:Publish',
            Condition: Match.objectLike({ StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } }),
          }),
        ]),
      },
    });
  });

  it('passes the cdk-nag AwsSolutions checks', () => {
    expect(nagErrors(app)).toEqual([]);
  });

  it('fails the synth on an invalid refresh section with the schema’s message', () => {
    const bad = writeConfig({ ...config, refresh: { maxConcurrency: 1 } });
    expect(() => synth('bad', bad)).toThrow(/\$\.refresh\.maxConcurrency: /);
  });
});

describe('TokenvendStack least privilege', () => {
  const { template, stack } = synth();
  const tableArn = getAtt(stack, stack.node.findChild('Tokens').node.findChild('Table'), 'Arn');
  const keyArn = getAtt(stack, stack.node.findChild('TokenKey').node.findChild('Key'), 'Arn');
  const integrations = ['genesys-eu'];
  const all = (): [string, lambda.IFunction][] => [
    ...[...stack.functions].map(([entry, fn]): [string, lambda.IFunction] => [entry, fn]),
    ['refresh-planner', stack.refresh.planner],
    ['refresh-worker', stack.refresh.worker],
  ];
  const fnOf = (entry: string) => {
    const found = all().find(([e]) => e === entry);
    if (!found) throw new Error(`no function ${entry}`);
    return found[1];
  };

  // Read off the store adapters and flows (see lib/permissions.ts); the test states them independently.
  const DYNAMODB: Record<string, { actions: string[]; index?: string }> = {
    health: { actions: [] },
    connect: { actions: ['dynamodb:GetItem', 'dynamodb:PutItem'] },
    'oauth-callback': { actions: ['dynamodb:DeleteItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'] },
    'connect-claim': { actions: ['dynamodb:DeleteItem', 'dynamodb:UpdateItem'] },
    'connect-credentials': { actions: ['dynamodb:UpdateItem'] },
    'saml-acs': { actions: ['dynamodb:PutItem', 'dynamodb:UpdateItem'] },
    vend: { actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'] },
    proxy: { actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'] },
    'token-exchange': { actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'] },
    'oauth-metadata': { actions: [] },
    connections: { actions: ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:Query'] },
    'service-vend': { actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'] },
    'refresh-planner': { actions: ['dynamodb:Query'], index: REFRESH_DUE_INDEX.name },
    'refresh-worker': { actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'] },
  };
  const TOKENS = ['access_token', 'refresh_token', 'id_token'];
  const KMS: Record<string, { actions: string[]; kinds: string[]; subjects: string[] } | undefined> = {
    health: undefined,
    connect: undefined,
    'oauth-callback': { actions: ['kms:GenerateDataKey'], kinds: ['parked_tokens'], subjects: ['user:*'] },
    'connect-claim': {
      actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
      kinds: ['parked_tokens', ...TOKENS],
      subjects: ['user:*'],
    },
    'connect-credentials': {
      actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
      kinds: ['access_token'],
      subjects: ['user:*'],
    },
    'saml-acs': {
      actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
      kinds: ['parked_tokens', ...TOKENS],
      subjects: ['user:*'],
    },
    vend: { actions: ['kms:Decrypt', 'kms:GenerateDataKey'], kinds: TOKENS, subjects: ['user:*'] },
    proxy: { actions: ['kms:Decrypt', 'kms:GenerateDataKey'], kinds: TOKENS, subjects: ['user:*'] },
    'token-exchange': {
      actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
      kinds: TOKENS,
      subjects: ['user:*'],
    },
    'oauth-metadata': undefined,
    connections: { actions: ['kms:Decrypt'], kinds: TOKENS, subjects: ['user:*'] },
    'service-vend': {
      actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
      kinds: TOKENS,
      subjects: ['service:*'],
    },
    'refresh-planner': undefined,
    'refresh-worker': {
      actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
      kinds: TOKENS,
      subjects: ['user:*', 'service:*'],
    },
  };

  it('covers every function of the contract', () => {
    expect(
      all()
        .map(([entry]) => entry)
        .sort(),
    ).toEqual(Object.keys(DYNAMODB).sort());
  });

  it.each(Object.entries(DYNAMODB))(
    'gives %s exactly the DynamoDB actions its code uses',
    (entry, expected) => {
      const statements = statementsOf(template, stack, fnOf(entry)).filter((s) =>
        actionsOf([s]).some((a) => a.startsWith('dynamodb:')),
      );
      if (expected.actions.length === 0) {
        expect(statements).toEqual([]);
        return;
      }
      expect(statements).toHaveLength(1);
      expect(actionsOf(statements)).toEqual(expected.actions);
      expect(statements[0]?.Resource).toEqual(
        expected.index ? { 'Fn::Join': ['', [tableArn, `/index/${expected.index}`]] } : tableArn,
      );
    },
  );

  it('grants no Scan, batch, transaction or table-management action to any role', () => {
    const policies = Object.values(template.findResources('AWS::IAM::Policy'));
    const actions = policies.flatMap((p) =>
      actionsOf(p.Properties.PolicyDocument.Statement as Statement[]).filter((a) =>
        a.startsWith('dynamodb:'),
      ),
    );
    expect([...new Set(actions)].sort()).toEqual([
      'dynamodb:DeleteItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
      'dynamodb:UpdateItem',
    ]);
  });

  it.each(Object.entries(KMS))(
    'lets %s use the token key only under the cipher’s encryption context',
    (entry, expected) => {
      const statements = statementsOf(template, stack, fnOf(entry)).filter((s) =>
        actionsOf([s]).some((a) => a.startsWith('kms:')),
      );
      if (!expected) {
        expect(statements).toEqual([]);
        return;
      }
      expect(statements).toEqual([
        {
          Effect: 'Allow',
          Action: expected.actions.length === 1 ? expected.actions[0] : expected.actions,
          Resource: keyArn,
          Condition: {
            'ForAllValues:StringEquals': { 'kms:EncryptionContextKeys': ['integration', 'subject', 'kind'] },
            StringEquals: {
              'kms:EncryptionContext:integration': integrations,
              'kms:EncryptionContext:kind': expected.kinds,
            },
            StringLike: {
              'kms:EncryptionContext:subject': expected.subjects,
            },
          },
        },
      ]);
    },
  );

  it('gives every function its own role without managed policies, writing only its own log group and the audit trail', () => {
    const roles = template.findResources('AWS::IAM::Role');
    for (const role of Object.values(roles)) expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    expect(JSON.stringify(template.toJSON())).not.toContain('AWSLambdaBasicExecutionRole');
    const roleIds = new Set<string>();
    for (const tv of stack.lambdas) {
      roleIds.add(logicalId(stack, tv.role));
      const logs = withAction(statementsOf(template, stack, tv.fn), 'logs:PutLogEvents');
      expect(logs).toEqual([
        {
          Effect: 'Allow',
          Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          Resource: getAtt(stack, tv.logGroup, 'Arn'),
        },
        // Records only: no function may read, filter or delete the audit trail.
        {
          Effect: 'Allow',
          Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          Resource: getAtt(stack, stack.auditLog, 'Arn'),
        },
      ]);
      expect(envOf(template, stack, tv.fn)[ENV.auditLogGroup]).toEqual(ref(stack, stack.auditLog));
      expect(functionResource(template, stack, tv.fn).Role).toEqual(getAtt(stack, tv.role, 'Arn'));
      expect(functionResource(template, stack, tv.fn).LoggingConfig).toMatchObject({
        LogGroup: ref(stack, tv.logGroup),
      });
    }
    expect(roleIds.size).toBe(FUNCTIONS.length + 2);
  });

  it('traces every function with X-Ray (active), the only `*` resource being X-Ray’s', () => {
    for (const f of Object.values(template.findResources('AWS::Lambda::Function'))) {
      expect(f.Properties.TracingConfig).toEqual({ Mode: 'Active' });
    }
    for (const p of Object.values(template.findResources('AWS::IAM::Policy'))) {
      for (const s of p.Properties.PolicyDocument.Statement as Statement[]) {
        if (s.Resource === '*')
          expect(actionsOf([s])).toEqual(['xray:PutTelemetryRecords', 'xray:PutTraceSegments']);
      }
    }
  });
});

describe('TokenvendStack operations', () => {
  const { template, stack } = synth();

  it('keeps logs for the configured retention and deletes them with a stack that keeps no data', () => {
    const all = Object.values(template.findResources('AWS::Logs::LogGroup'));
    const groups = all.filter((g) => g.Properties.LogGroupName !== '/tokenvend/test/audit');
    expect(groups).toHaveLength(FUNCTIONS.length + 2 + 1);
    // The audit trail: its own group and retention (30 days for a stack that keeps no data).
    expect(all.length - groups.length).toBe(1);
    template.hasResource('AWS::Logs::LogGroup', {
      Properties: { LogGroupName: '/tokenvend/test/audit', RetentionInDays: 30 },
      DeletionPolicy: 'Delete',
    });
    for (const g of groups) {
      expect(g.Properties.RetentionInDays).toBe(30);
      expect(g.DeletionPolicy).toBe('Delete');
    }
  });

  it('retains the log groups (a year by default), the table and the key with a stack that keeps its data', () => {
    const config = JSON.parse(fs.readFileSync(path.join(projectRoot, 'config', 'dev.json'), 'utf8'));
    const { deploy: _deploy, ...rest } = config;
    const kept = synth('kept', writeConfig(rest), true).template;
    const groups = Object.values(kept.findResources('AWS::Logs::LogGroup')).filter(
      (g) => g.Properties.LogGroupName !== '/tokenvend/kept/audit',
    );
    expect(groups).toHaveLength(FUNCTIONS.length + 2 + 1);
    // The audit trail is kept two years by default, and retained.
    kept.hasResource('AWS::Logs::LogGroup', {
      Properties: { LogGroupName: '/tokenvend/kept/audit', RetentionInDays: 731 },
      DeletionPolicy: 'Retain',
    });
    const audited = synth(
      'audited',
      writeConfig({ ...rest, deploy: { auditRetentionDays: 3653 } }),
      true,
    ).template;
    audited.hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: '/tokenvend/audited/audit',
      RetentionInDays: 3653,
    });
    for (const g of groups) {
      expect(g.Properties.RetentionInDays).toBe(365);
      expect(g.DeletionPolicy).toBe('Retain');
    }
    kept.hasResource('AWS::DynamoDB::GlobalTable', { DeletionPolicy: 'Retain' });
    kept.hasResource('AWS::KMS::Key', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({ Description: Match.stringLikeRegexp('tokens at rest') }),
    });
  });

  it('throttles every route of the API stage as the config says', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      DefaultRouteSettings: { ThrottlingRateLimit: 20, ThrottlingBurstLimit: 40 },
    });
  });

  it('applies the default throttling when the config names none', () => {
    const t = synth('throttle', writeConfig({ integrations: { sandbox: { provider: 'webex' } } })).template;
    t.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      DefaultRouteSettings: { ThrottlingRateLimit: 100, ThrottlingBurstLimit: 200 },
    });
  });

  it('alarms on the API’s 5xx rate and on every function’s errors and throttles, notifying the alarm topic', () => {
    const topic = { Ref: logicalId(stack, stack.node.findChild('Alarms').node.findChild('Topic')) };
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm'));
    // The API's 5xx rate, two per function, the refresh pipeline's, and lost audit records.
    expect(alarms).toHaveLength(1 + 2 * (FUNCTIONS.length + 2) + stack.refresh.alarms.length + 1);
    for (const alarm of alarms) expect(alarm.Properties.AlarmActions).toEqual([topic]);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Threshold: 5,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: 'IF(requests >= 20, 100 * errors / requests, 0)', ReturnData: true }),
        Match.objectLike({
          Id: 'errors',
          MetricStat: Match.objectLike({
            Metric: Match.objectLike({ Namespace: 'AWS/ApiGateway', MetricName: '5xx' }),
            Stat: 'Sum',
          }),
        }),
        Match.objectLike({
          Id: 'requests',
          MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: 'Count' }), Stat: 'Sum' }),
        }),
      ]),
    });
    for (const tv of stack.lambdas) {
      for (const metric of ['Errors', 'Throttles']) {
        template.hasResourceProperties('AWS::CloudWatch::Alarm', {
          Namespace: 'AWS/Lambda',
          MetricName: metric,
          Dimensions: [{ Name: 'FunctionName', Value: ref(stack, tv.fn) }],
          Statistic: 'Sum',
          Period: 300,
          Threshold: 1,
        });
      }
    }
  });

  it('counts audit records a function could not write, from every function log, and alarms on any', () => {
    const filters = Object.values(template.findResources('AWS::Logs::MetricFilter'));
    expect(filters).toHaveLength(stack.lambdas.length);
    for (const tv of stack.lambdas) {
      template.hasResourceProperties('AWS::Logs::MetricFilter', {
        LogGroupName: ref(stack, tv.logGroup),
        FilterPattern: '{ $.message = "audit records not written" }',
        MetricTransformations: [
          { MetricNamespace: 'tokenvend', MetricName: 'AuditRecordsLost', MetricValue: '$.records' },
        ],
      });
    }
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'tokenvend',
      MetricName: 'AuditRecordsLost',
      Statistic: 'Sum',
      Threshold: 1,
      AlarmDescription: Match.stringLikeRegexp('/tokenvend/test/audit'),
    });
  });

  it('maps an optional custom domain (TLS 1.2) to the API and outputs its URL', () => {
    template.resourceCountIs('AWS::ApiGatewayV2::DomainName', 0);
    const certificateArn =
      'arn:aws:acm:eu-west-1:123456789012:certificate/11111111-2222-3333-4444-555555555555';
    const withDomain = synth(
      'domain',
      writeConfig({
        publicBaseUrl: 'https://tokens.example.org',
        integrations: { sandbox: { provider: 'webex' } },
        deploy: { domain: { name: 'tokens.example.org', certificateArn } },
      }),
    );
    const t = withDomain.template;
    t.hasResourceProperties('AWS::ApiGatewayV2::DomainName', {
      DomainName: 'tokens.example.org',
      DomainNameConfigurations: [
        Match.objectLike({
          CertificateArn: certificateArn,
          EndpointType: 'REGIONAL',
          SecurityPolicy: 'TLS_1_2',
        }),
      ],
    });
    t.hasResourceProperties('AWS::ApiGatewayV2::ApiMapping', {
      ApiId: ref(withDomain.stack, withDomain.stack.api),
      DomainName: ref(withDomain.stack, withDomain.stack.domain as apigw.DomainName),
      Stage: '$default',
    });
    t.hasOutput('ApiDomainUrl', { Value: 'https://tokens.example.org' });
    t.hasOutput('ApiDomainTarget', Match.anyValue());
    expect(nagErrors(withDomain.app)).toEqual([]);
  });

  it('refuses a publicBaseUrl on another host than the custom domain', () => {
    const bad = writeConfig({
      publicBaseUrl: 'https://elsewhere.example.org',
      integrations: {},
      deploy: {
        domain: {
          name: 'tokens.example.org',
          certificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/1',
        },
      },
    });
    expect(() => synth('baddomain', bad)).toThrow(
      /^config-\d+\.json: \$\.publicBaseUrl: names elsewhere\.example\.org, but the API's custom domain is tokens\.example\.org$/,
    );
  });

  it('is region- and account-agnostic without deploy.region/account, whatever the shell’s defaults', () => {
    const saved = { ...process.env };
    process.env.CDK_DEFAULT_REGION = 'ap-southeast-7';
    process.env.CDK_DEFAULT_ACCOUNT = '999988887777';
    try {
      const t = synth('agnostic').template;
      const json = JSON.stringify(t.toJSON());
      expect(json).not.toContain('ap-southeast-7');
      expect(json).not.toContain('999988887777');
      t.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
        Replicas: [Match.objectLike({ Region: { Ref: 'AWS::Region' } })],
      });
    } finally {
      process.env = saved;
    }
  });
});

describe('TokenvendStack grants for consumers', () => {
  const configFile = writeConfig({
    integrations: {
      crm: {
        provider: 'genesys-cloud',
        vars: { region: 'mypurecloud.ie', orgName: 'acme' },
        serviceConnections: { reporting: { grant: 'client_credentials' } },
        onBehalfOf: { allowedPrincipals: ['arn:aws:iam::123456789012:role/post-call'] },
      },
    },
  });

  it('grantServiceVend invokes exactly one service route and hands a Lambda the API URL', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new TokenvendStack(app, 'tokenvend-grants', { envName: 'grants', configFile, projectRoot });
    const consumer = new lambdaLib.Function(stack, 'Consumer', {
      runtime: lambdaLib.Runtime.NODEJS_24_X,
      handler: 'index.handler',
      code: lambdaLib.Code.fromInline('export const handler = async () => 1;'),
    });
    stack.grantServiceVend(consumer, 'crm', 'reporting');
    const role = new iamLib.Role(stack, 'PostCall', { assumedBy: new iamLib.AccountRootPrincipal() });
    stack.grantUserVend(role, 'crm');
    const template = Template.fromStack(stack);
    const resources = template.toJSON().Resources as Record<string, { Type: string; Properties: Json }>;
    const invoke = Object.values(resources)
      .filter((r) => r.Type === 'AWS::IAM::Policy')
      .flatMap((r) => (r.Properties.PolicyDocument as { Statement: Statement[] }).Statement)
      .filter((s) => s.Action === 'execute-api:Invoke');
    expect(invoke.map((s) => JSON.stringify(s.Resource))).toEqual([
      expect.stringContaining('/*/GET/service/vend/crm/reporting'),
      expect.stringContaining('/*/POST/service/users/crm/vend'),
    ]);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ TOKENVEND_URL: Match.anyValue() }) },
      Handler: 'index.handler',
    });
  });

  it('fails the synth for a service connection or integration the config does not have', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new TokenvendStack(app, 'tokenvend-grants2', {
      envName: 'grants',
      configFile,
      projectRoot,
    });
    const role = new iamLib.Role(stack, 'R', { assumedBy: new iamLib.AccountRootPrincipal() });
    expect(() => stack.grantServiceVend(role, 'crm', 'nope')).toThrow(/no service connection crm\/nope/);
    expect(() => stack.grantServiceVend(role, 'crm', '__proto__')).toThrow(/no service connection/);
    expect(() => stack.grantUserVend(role, 'other')).toThrow(/no integration other/);
  });
});
