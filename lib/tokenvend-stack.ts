/**
 * One tokenvend environment: the table, the KMS key, one Lambda per handler and the HTTP API that routes to
 * them (throttled, optionally on a custom domain), the event bus connection events go to, the scheduled refresh
 * pipeline, and the alarms. Routes come from functions/handlers/routes.ts (the table the local runtime reads),
 * each function's exact access from lib/permissions.ts. The deployment config is checked and compiled at synth
 * (lib/deployment-config.ts); the functions carry the compiled result.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  ArnFormat,
  CfnOutput,
  Duration,
  RemovalPolicy,
  Stack,
  type StackProps,
  Stage,
  Validations,
} from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import { PROXY_CORS_HEADERS } from '../functions/core/flows/proxy.js';
import { FUNCTIONS } from '../functions/handlers/routes.js';
import { AlarmTopic } from './alarm-topic.js';
import { auditLogGroupName } from './audit-log.js';
import { type CheckedDeployment, readDeployment } from './deployment-config.js';
import { apiAccess } from './permissions.js';
import { RefreshPipeline } from './refresh-pipeline.js';
import { TokenKey } from './token-key.js';
import { TokenTable } from './token-table.js';
import { TokenvendFunction, type TokenvendFunctionProps } from './tokenvend-function.js';

export interface TokenvendStackProps extends StackProps {
  /** `dev`, `staging`, `prod`, ...: names the stack's secrets prefix and resources. */
  envName: string;
  /**
   * The deployment config JSON (integrations, callers, return URLs, CORS origins, refresh and deploy settings),
   * checked at synth; each function carries its compiled form.
   */
  configFile: string;
  /** The config already read by {@link readDeployment} (bin/ reads it first for the stack's env). */
  checked?: CheckedDeployment;
  /** Repository root (where package-lock.json, functions/ and providers/ are). */
  projectRoot: string;
  /** Keep the table, the key and the log groups on stack deletion (default: `deploy.retainData`, else true). */
  retainData?: boolean;
}

/** API 5xx answers, in percent of requests over five minutes, that raise the alarm. */
export const API_5XX_ALARM_PERCENT = 5;
/** Fewer requests than this in five minutes never raise the 5xx-rate alarm (one error in three is noise). */
export const API_5XX_ALARM_MIN_REQUESTS = 20;
/** Lambda errors (unhandled errors, timeouts) or throttles of one function in five minutes that raise an alarm. */
export const LAMBDA_ERRORS_ALARM_THRESHOLD = 1;
export const LAMBDA_THROTTLES_ALARM_THRESHOLD = 1;

/** The metric the audit-loss metric filters write (docs/audit.md). */
const AUDIT_LOSS_METRIC = { namespace: 'tokenvend', name: 'AuditRecordsLost' } as const;

/** Log retention when the config names none: a year for environments that keep their data, else a month. */
export function defaultLogRetentionDays(retainData: boolean): number {
  return retainData ? 365 : 30;
}

function pascal(entry: string): string {
  return entry.replace(/(^|-)([a-z])/g, (_, __, c: string) => c.toUpperCase());
}

export class TokenvendStack extends Stack {
  readonly api: apigw.HttpApi;
  readonly eventBus: events.EventBus;
  /** The audit trail's log group (`/tokenvend/<env>/audit`). */
  readonly auditLog: logs.LogGroup;
  /** The API's functions by handler entry (`vend`, `connect`, ...). */
  readonly functions: ReadonlyMap<string, lambda.IFunction>;
  /** Every function with its role and log group (API functions, then planner and worker). */
  readonly lambdas: readonly TokenvendFunction[];
  readonly refresh: RefreshPipeline;
  readonly alarmTopic: sns.ITopic;
  /** Every alarm of the stack (API, functions, refresh pipeline). */
  readonly alarms: readonly cloudwatch.Alarm[];
  /** The custom domain, when the config names one. */
  readonly domain?: apigw.DomainName;
  /** The compiled deployment written at synth (copied beside every bundle). */
  readonly compiledFile: string;
  /** The checked deployment config, for the grant helpers' checks. */
  readonly #config: CheckedDeployment['config'];

  constructor(scope: Construct, id: string, props: TokenvendStackProps) {
    super(scope, id, props);
    const configFile = path.resolve(props.configFile);
    const checked = props.checked ?? readDeployment(configFile);
    const { config } = checked;
    this.#config = config;
    const retain = props.retainData ?? config.deploy.retainData ?? true;
    const logRetention = (config.deploy.logRetentionDays ??
      defaultLogRetentionDays(retain)) as logs.RetentionDays;
    const logRemoval = retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    this.compiledFile = writeCompiled(this, checked);

    const table = new TokenTable(this, 'Tokens', { retain }).table;
    const key = new TokenKey(this, 'TokenKey', { retain });
    const secretPrefix = `tokenvend/${props.envName}/`;
    this.eventBus = new events.EventBus(this, 'Events', { eventBusName: `tokenvend-${props.envName}` });

    // The audit trail (docs/audit.md): its own group, its own retention, found by name (`tokenvend audit`).
    this.auditLog = new logs.LogGroup(this, 'AuditLog', {
      logGroupName: auditLogGroupName(props.envName),
      retention: (config.deploy.auditRetentionDays ?? (retain ? 731 : 30)) as logs.RetentionDays,
      removalPolicy: logRemoval,
    });
    const accessLogs = new logs.LogGroup(this, 'ApiAccessLogs', {
      retention: logRetention,
      removalPolicy: logRemoval,
    });
    this.api = new apigw.HttpApi(this, 'Api', {
      description: `tokenvend ${props.envName}`,
      corsPreflight: config.corsOrigins.length
        ? {
            allowOrigins: config.corsOrigins,
            allowMethods: [
              apigw.CorsHttpMethod.GET,
              apigw.CorsHttpMethod.POST,
              apigw.CorsHttpMethod.PUT,
              apigw.CorsHttpMethod.PATCH,
              apigw.CorsHttpMethod.DELETE,
            ],
            // The vendor API proxy's conditional-request and Prefer headers, and each integration's forwardHeaders.
            allowHeaders: [
              ...new Set([
                'authorization',
                'content-type',
                'x-tokenvend-rejected',
                ...PROXY_CORS_HEADERS,
                ...Object.values(config.integrations).flatMap((i) =>
                  (i.proxy?.forwardHeaders ?? []).map((h) => h.toLowerCase()),
                ),
              ]),
            ],
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
    // Every route, unless a route overrides it: API Gateway answers 429 above this rate.
    stage.defaultRouteSettings = {
      throttlingRateLimit: config.deploy.throttling.rateLimit,
      throttlingBurstLimit: config.deploy.throttling.burstLimit,
    };

    const common: Omit<TokenvendFunctionProps, 'spec' | 'environment'> = {
      envName: props.envName,
      compiledFile: this.compiledFile,
      integrations: Object.keys(config.integrations),
      projectRoot: props.projectRoot,
      table,
      key,
      secretPrefix,
      eventBus: this.eventBus,
      logRetention,
      retainLogs: retain,
      auditLog: this.auditLog,
    };
    const iamAuthorizer = new HttpIamAuthorizer();
    const functions = new Map<string, lambda.IFunction>();
    const lambdas: TokenvendFunction[] = [];
    this.functions = functions;
    for (const spec of FUNCTIONS) {
      const fn = new TokenvendFunction(this, pascal(spec.entry), {
        ...common,
        spec: {
          entry: spec.entry,
          timeoutSeconds: spec.timeoutSeconds,
          access: apiAccess(spec),
          secrets: spec.secrets,
          events: spec.events,
        },
      });
      lambdas.push(fn);
      functions.set(spec.entry, fn.fn);
      const integration = new HttpLambdaIntegration(`${pascal(spec.entry)}Integration`, fn.fn);
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
                  : 'Public by design: health check, OAuth callback (state-bound), SAML ACS (signature-verified), the RFC 8693 token endpoint (its subject_token is the caller JWT, verified in the handler) and the RFC 8414 metadata document.',
            });
          }
        }
      }
    }
    this.alarmTopic = new AlarmTopic(this, 'Alarms', { envName: props.envName }).topic;
    this.refresh = new RefreshPipeline(this, 'Refresh', {
      config,
      functions: common,
      alarmTopic: this.alarmTopic,
    });
    lambdas.push(...this.refresh.lambdas);
    this.lambdas = lambdas;
    this.alarms = [
      ...this.apiAlarms(props.envName),
      ...lambdas.flatMap((fn) => this.functionAlarms(props.envName, fn)),
      this.auditLossAlarm(props.envName, lambdas),
      ...this.refresh.alarms,
    ];

    const domain = config.deploy.domain;
    if (domain) {
      this.domain = new apigw.DomainName(this, 'Domain', {
        domainName: domain.name,
        certificate: acm.Certificate.fromCertificateArn(this, 'Certificate', domain.certificateArn),
        securityPolicy: apigw.SecurityPolicy.TLS_1_2,
      });
      new apigw.ApiMapping(this, 'ApiMapping', {
        api: this.api,
        domainName: this.domain,
        stage: this.api.defaultStage,
      });
      new CfnOutput(this, 'ApiDomainUrl', { value: `https://${domain.name}` });
      new CfnOutput(this, 'ApiDomainTarget', {
        value: this.domain.regionalDomainName,
        description: `DNS: point ${domain.name} (CNAME, or an alias record in the hosted zone ApiDomainHostedZoneId) here`,
      });
      new CfnOutput(this, 'ApiDomainHostedZoneId', { value: this.domain.regionalHostedZoneId });
    }
    new CfnOutput(this, 'ApiUrl', { value: this.api.apiEndpoint });
    new CfnOutput(this, 'TableName', { value: table.tableName });
    new CfnOutput(this, 'SecretPrefix', { value: secretPrefix });
    new CfnOutput(this, 'EventBusName', { value: this.eventBus.eventBusName });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.alarmTopic.topicArn });
    new CfnOutput(this, 'RefreshDeadLetterQueueUrl', { value: this.refresh.deadLetterQueue.queueUrl });
  }

  /**
   * Lets `grantee` fetch one service connection through the IAM route: `execute-api:Invoke` on exactly
   * `GET /service/vend/{integration}/{connection}`, and `TOKENVEND_URL` (what `tokenvend/client` reads) in its
   * environment when it is a Lambda. The principal must also be on the connection's `allowedPrincipals` when the
   * config lists any. Fails the synth for a connection the config does not have.
   */
  grantServiceVend(grantee: iam.IGrantable, integration: string, connection: string): iam.Grant {
    const spec = this.#config.integrations[integration];
    if (!spec || !Object.hasOwn(spec.serviceConnections, connection)) {
      throw new Error(`grantServiceVend: the config has no service connection ${integration}/${connection}`);
    }
    return this.#grantInvoke(grantee, 'GET', `/service/vend/${integration}/${connection}`);
  }

  /**
   * Lets `grantee` vend users' connections of one integration (a backend acting for a user): `execute-api:Invoke`
   * on exactly `POST /service/users/{integration}/vend`, and `TOKENVEND_URL` when it is a Lambda. The principal must
   * also be on `integrations.<id>.onBehalfOf.allowedPrincipals`. Fails the synth for an unknown integration.
   */
  grantUserVend(grantee: iam.IGrantable, integration: string): iam.Grant {
    if (!this.#config.integrations[integration]) {
      throw new Error(`grantUserVend: the config has no integration ${integration}`);
    }
    return this.#grantInvoke(grantee, 'POST', `/service/users/${integration}/vend`);
  }

  #grantInvoke(grantee: iam.IGrantable, method: string, route: string): iam.Grant {
    const maybeLambda = grantee as Partial<Pick<lambda.Function, 'addEnvironment'>>;
    maybeLambda.addEnvironment?.call(grantee, 'TOKENVEND_URL', this.api.apiEndpoint);
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['execute-api:Invoke'],
      resourceArns: [
        this.formatArn({
          service: 'execute-api',
          resource: this.api.apiId,
          resourceName: `*/${method}${route}`,
          arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
        }),
      ],
    });
  }

  /** The API's 5xx rate: server errors in percent of requests, over five minutes, with enough requests. */
  private apiAlarms(envName: string): cloudwatch.Alarm[] {
    const period = Duration.minutes(5);
    const rate = new cloudwatch.MathExpression({
      expression: `IF(requests >= ${API_5XX_ALARM_MIN_REQUESTS}, 100 * errors / requests, 0)`,
      usingMetrics: {
        errors: this.api.metricServerError({ statistic: cloudwatch.Stats.SUM, period }),
        requests: this.api.metricCount({ statistic: cloudwatch.Stats.SUM, period }),
      },
      period,
      label: 'API 5xx rate (%)',
    });
    return [
      this.alarm(
        'Api5xxRate',
        `tokenvend ${envName}: over ${API_5XX_ALARM_PERCENT}% of API requests answered 5xx in 5 minutes`,
        rate,
        API_5XX_ALARM_PERCENT,
      ),
    ];
  }

  /** Errors and throttles of one function. */
  private functionAlarms(envName: string, fn: TokenvendFunction): cloudwatch.Alarm[] {
    const id = fn.node.scopes
      .slice(2)
      .map((scope) => scope.node.id)
      .join('');
    const name = fn.node.id;
    return [
      this.alarm(
        `${id}Errors`,
        `tokenvend ${envName}: the ${name} function failed (unhandled error or timeout)`,
        fn.metricErrors(),
        LAMBDA_ERRORS_ALARM_THRESHOLD,
      ),
      this.alarm(
        `${id}Throttles`,
        `tokenvend ${envName}: the ${name} function was throttled (concurrency limit)`,
        fn.metricThrottles(),
        LAMBDA_THROTTLES_ALARM_THRESHOLD,
      ),
    ];
  }

  /**
   * Audit records a function could not write are an error line in its own log (`audit records not written`, with
   * the number of records): a metric filter per function log group counts them, and one alarm fires on any.
   */
  private auditLossAlarm(envName: string, lambdas: readonly TokenvendFunction[]): cloudwatch.Alarm {
    for (const fn of lambdas) {
      new logs.MetricFilter(fn, 'AuditRecordsLost', {
        logGroup: fn.logGroup,
        metricNamespace: AUDIT_LOSS_METRIC.namespace,
        metricName: AUDIT_LOSS_METRIC.name,
        filterPattern: logs.FilterPattern.stringValue('$.message', '=', 'audit records not written'),
        metricValue: '$.records',
      });
    }
    return this.alarm(
      'AuditRecordsLost',
      `tokenvend ${envName}: audit records could not be written to ${auditLogGroupName(envName)}`,
      new cloudwatch.Metric({
        namespace: AUDIT_LOSS_METRIC.namespace,
        metricName: AUDIT_LOSS_METRIC.name,
        statistic: cloudwatch.Stats.SUM,
        period: Duration.minutes(5),
      }),
      1,
    );
  }

  private alarm(
    id: string,
    description: string,
    metric: cloudwatch.IMetric,
    threshold: number,
  ): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(this, id, {
      alarmDescription: description,
      metric,
      threshold,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(new cwActions.SnsAction(this.alarmTopic));
    return alarm;
  }
}

/**
 * Writes the compiled deployment where the bundling step copies it from: the cloud assembly's folder (cdk.out),
 * so it is rewritten by every synth and never stale.
 */
function writeCompiled(stack: Stack, checked: CheckedDeployment): string {
  const dir = Stage.of(stack)?.outdir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'tokenvend-'));
  const file = path.join(dir, `${stack.artifactId}.tokenvend.compiled.json`);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(checked.compiled)}\n`);
  return file;
}
