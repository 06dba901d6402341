/**
 * One tokenvend environment: the table, the KMS key, one Lambda per handler and the HTTP API that routes
 * to them, the event bus connection events go to, and the scheduled refresh pipeline with its alarms. Routes
 * and permissions come from functions/handlers/routes.ts, the same table the local runtime reads.
 */
import * as path from 'node:path';
import { CfnOutput, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as events from 'aws-cdk-lib/aws-events';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { FUNCTIONS } from '../functions/handlers/routes.js';
import { AlarmTopic } from './alarm-topic.js';
import { readDeploymentConfig } from './deployment-config.js';
import { RefreshPipeline } from './refresh-pipeline.js';
import { TokenKey } from './token-key.js';
import { TokenTable } from './token-table.js';
import { TokenvendFunction } from './tokenvend-function.js';

export interface TokenvendStackProps extends StackProps {
  /** `dev`, `staging`, `prod`, ...: names the stack's secrets prefix and resources. */
  envName: string;
  /**
   * The deployment config JSON (integrations, callers, return URLs, CORS origins, refresh settings), validated
   * at synth and bundled with every function.
   */
  configFile: string;
  /** Repository root (where package-lock.json, functions/ and providers/ are). */
  projectRoot: string;
  /** Keep the table and key on stack deletion (default true). */
  retainData?: boolean;
}

function pascal(entry: string): string {
  return entry.replace(/(^|-)([a-z])/g, (_, __, c: string) => c.toUpperCase());
}

export class TokenvendStack extends Stack {
  readonly api: apigw.HttpApi;
  readonly eventBus: events.EventBus;
  /** The API's functions by handler entry (`vend`, `connect`, ...). */
  readonly functions: ReadonlyMap<string, lambda.IFunction>;
  readonly refresh: RefreshPipeline;

  constructor(scope: Construct, id: string, props: TokenvendStackProps) {
    super(scope, id, props);
    const configFile = path.resolve(props.configFile);
    const config = readDeploymentConfig(configFile);
    const retain = props.retainData ?? true;
    const table = new TokenTable(this, 'Tokens', { retain }).table;
    const key = new TokenKey(this, 'TokenKey', { retain });
    const secretPrefix = `tokenvend/${props.envName}/`;
    this.eventBus = new events.EventBus(this, 'Events', { eventBusName: `tokenvend-${props.envName}` });

    const accessLogs = new logs.LogGroup(this, 'ApiAccessLogs', { retention: logs.RetentionDays.ONE_MONTH });
    this.api = new apigw.HttpApi(this, 'Api', {
      description: `tokenvend ${props.envName}`,
      corsPreflight: config.corsOrigins.length
        ? {
            allowOrigins: config.corsOrigins,
            allowMethods: [apigw.CorsHttpMethod.GET, apigw.CorsHttpMethod.POST, apigw.CorsHttpMethod.DELETE],
            allowHeaders: ['authorization', 'content-type'],
          }
        : undefined,
    });
    const stage = this.api.defaultStage?.node.defaultChild as apigw.CfnStage;
    stage.accessLogSettings = {
      destinationArn: accessLogs.logGroupArn,
      // No query string and no headers: callbacks carry codes, and callers send bearer tokens.
      format: JSON.stringify({
        requestId: '$context.requestId',
        routeKey: '$context.routeKey',
        status: '$context.status',
        latencyMs: '$context.responseLatency',
        ip: '$context.identity.sourceIp',
      }),
    };

    const iamAuthorizer = new HttpIamAuthorizer();
    const functions = new Map<string, lambda.IFunction>();
    this.functions = functions;
    for (const spec of FUNCTIONS) {
      const fn = new TokenvendFunction(this, pascal(spec.entry), {
        spec,
        envName: props.envName,
        configFile,
        projectRoot: props.projectRoot,
        table,
        key,
        secretPrefix,
        eventBus: this.eventBus,
      }).fn;
      functions.set(spec.entry, fn);
      const integration = new HttpLambdaIntegration(`${pascal(spec.entry)}Integration`, fn);
      for (const route of spec.routes) {
        const routes = this.api.addRoutes({
          path: route.path,
          methods: [apigw.HttpMethod[route.method]],
          integration,
          ...(route.auth === 'iam' ? { authorizer: iamAuthorizer } : {}),
        });
        if (route.auth !== 'iam') {
          for (const r of routes) {
            Validations.of(r).acknowledge({
              id: 'AwsSolutions-APIG4',
              reason:
                route.auth === 'jwt'
                  ? 'Caller JWTs are verified in the handler with aws-jwt-verify (issuer, audience, JWKS per deployment).'
                  : 'Public by design: health check, OAuth callback (state-bound) and SAML ACS (signature-verified).',
            });
          }
        }
      }
    }
    const alarmTopic = new AlarmTopic(this, 'Alarms', { envName: props.envName }).topic;
    this.refresh = new RefreshPipeline(this, 'Refresh', {
      envName: props.envName,
      config,
      configFile,
      projectRoot: props.projectRoot,
      table,
      key,
      secretPrefix,
      eventBus: this.eventBus,
      alarmTopic,
    });
    Validations.of(this).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason: 'The managed basic execution role only grants writing the function’s own logs.',
    });
    new CfnOutput(this, 'ApiUrl', { value: this.api.apiEndpoint });
    new CfnOutput(this, 'TableName', { value: table.tableName });
    new CfnOutput(this, 'SecretPrefix', { value: secretPrefix });
    new CfnOutput(this, 'EventBusName', { value: this.eventBus.eventBusName });
    new CfnOutput(this, 'AlarmTopicArn', { value: alarmTopic.topicArn });
    new CfnOutput(this, 'RefreshDeadLetterQueueUrl', { value: this.refresh.deadLetterQueue.queueUrl });
  }
}
