/**
 * The scheduled refresh (DESIGN flow 4): an EventBridge schedule runs the planner, which queries the refresh-due
 * index and sends the due connections to one SQS queue per integration; the worker consumes every queue with
 * partial-batch failures and a per-integration concurrency cap; a shared dead-letter queue catches what keeps
 * failing. Settings come from the deployment config's `refresh` section (and `integrations.<id>.refresh`), and
 * each function gets exactly the access this file declares, next to the settings it serves.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { DeploymentConfig } from '../functions/core/config/schema.js';
import type { MetricName, RefreshFailureClass } from '../functions/core/ports.js';
import { ENV, REFRESH_FUNCTIONS } from '../functions/handlers/routes.js';
import { PLANNER_ACCESS, WORKER_ACCESS } from './permissions.js';
import {
  type LambdaSpec,
  POWERTOOLS_ENVIRONMENT,
  TokenvendFunction,
  type TokenvendFunctionProps,
} from './tokenvend-function.js';

/** Where the refresh functions report (Powertools metrics; see `Telemetry` in functions/core/ports.ts). */
export const METRICS_NAMESPACE = POWERTOOLS_ENVIRONMENT.POWERTOOLS_METRICS_NAMESPACE;
export const METRICS_SERVICE = POWERTOOLS_ENVIRONMENT.POWERTOOLS_SERVICE_NAME;

/** Queue age that means the worker is not keeping up (or not running). */
export const QUEUE_AGE_ALARM_SECONDS = 600;
/** Refresh failures of one integration in five minutes that page someone. */
export const REFRESH_FAILED_ALARM_THRESHOLD = 5;

/** The planner reads the due connections from the index, sends them on, and touches nothing else. */
export const PLANNER_SPEC: LambdaSpec = {
  entry: REFRESH_FUNCTIONS.planner.entry,
  timeoutSeconds: REFRESH_FUNCTIONS.planner.timeoutSeconds,
  access: PLANNER_ACCESS,
  secrets: false,
  events: false,
};

/**
 * The worker reads one connection by key and writes it back with conditions (lease, rotated tokens, status):
 * no Scan, Put, Delete or batch actions. It decrypts and re-encrypts tokens, reads client secrets and
 * publishes connection events.
 */
export function workerSpec(timeoutSeconds: number): LambdaSpec {
  return {
    entry: REFRESH_FUNCTIONS.worker.entry,
    timeoutSeconds,
    access: WORKER_ACCESS,
    secrets: true,
    events: true,
  };
}

export interface RefreshPipelineProps {
  /** The parsed deployment config (defaults applied): `refresh` and `integrations`. */
  config: DeploymentConfig;
  /** What every tokenvend function of the stack shares (environment, compiled deployment, table, key, logs). */
  functions: Omit<TokenvendFunctionProps, 'spec' | 'environment'>;
  /** Alarm actions go here when given. */
  alarmTopic?: sns.ITopic;
}

export class RefreshPipeline extends Construct {
  readonly planner: lambda.IFunction;
  readonly worker: lambda.IFunction;
  /** The planner and the worker, for the stack's per-function alarms. */
  readonly lambdas: readonly TokenvendFunction[];
  readonly schedule: events.Rule;
  /** Integration id -> its refresh queue. */
  readonly queues: ReadonlyMap<string, sqs.Queue>;
  readonly deadLetterQueue: sqs.Queue;
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: RefreshPipelineProps) {
    super(scope, id);
    const { refresh, integrations } = props.config;
    const common = props.functions;
    const envName = common.envName;

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    // AWS's guidance for Lambda SQS event sources: six times the function timeout, so a batch retried after a
    // throttle does not become visible (and run twice at once) while a worker still holds it.
    const visibilityTimeout = Duration.seconds(6 * refresh.workerTimeoutSeconds);
    const queues = new Map<string, sqs.Queue>();
    for (const integration of Object.keys(integrations)) {
      queues.set(
        integration,
        new sqs.Queue(this, `Queue-${integration}`, {
          encryption: sqs.QueueEncryption.SQS_MANAGED,
          enforceSSL: true,
          visibilityTimeout,
          deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: refresh.maxReceiveCount },
        }),
      );
    }
    this.queues = queues;

    const plannerFunction = new TokenvendFunction(this, 'Planner', {
      ...common,
      spec: PLANNER_SPEC,
      environment: {
        [ENV.refreshQueues]: Stack.of(this).toJsonString(
          Object.fromEntries([...queues].map(([integration, queue]) => [integration, queue.queueUrl])),
        ),
      },
    });
    const planner = plannerFunction.fn;
    if (queues.size > 0) {
      planner.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['sqs:SendMessage'],
          resources: [...queues.values()].map((q) => q.queueArn),
        }),
      );
    }
    // The next run plans again: a failed or late run is not retried.
    planner.configureAsyncInvoke({ retryAttempts: 0 });
    this.planner = planner;
    this.schedule = new events.Rule(this, 'Schedule', {
      description: `tokenvend ${envName}: runs the refresh planner`,
      schedule: events.Schedule.rate(Duration.minutes(refresh.scheduleMinutes)),
      targets: [new targets.LambdaFunction(planner, { retryAttempts: 0 })],
    });

    const workerFunction = new TokenvendFunction(this, 'Worker', {
      ...common,
      spec: workerSpec(refresh.workerTimeoutSeconds),
    });
    const worker = workerFunction.fn;
    this.lambdas = [plannerFunction, workerFunction];
    for (const [integration, queue] of queues) {
      worker.addEventSource(
        new SqsEventSource(queue, {
          batchSize: 10,
          reportBatchItemFailures: true,
          maxConcurrency: integrations[integration]?.refresh?.maxConcurrency ?? refresh.maxConcurrency,
        }),
      );
    }
    this.worker = worker;

    this.alarm(
      'DeadLetters',
      `tokenvend ${envName}: refresh messages reached the dead-letter queue`,
      this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        statistic: cloudwatch.Stats.MAXIMUM,
        period: Duration.minutes(1),
      }),
      1,
      props.alarmTopic,
    );
    for (const [integration, queue] of queues) {
      this.alarm(
        `QueueAge-${integration}`,
        `tokenvend ${envName}: ${integration} refresh messages wait over ${QUEUE_AGE_ALARM_SECONDS / 60} minutes`,
        queue.metricApproximateAgeOfOldestMessage({
          statistic: cloudwatch.Stats.MAXIMUM,
          period: Duration.minutes(1),
        }),
        QUEUE_AGE_ALARM_SECONDS,
        props.alarmTopic,
      );
      this.alarm(
        `RefreshFailed-${integration}`,
        `tokenvend ${envName}: ${integration} refreshes keep failing`,
        refreshFailed({ integration }),
        REFRESH_FAILED_ALARM_THRESHOLD,
        props.alarmTopic,
      );
      this.alarm(
        `InvalidClient-${integration}`,
        `tokenvend ${envName}: ${integration} rejects tokenvend's client credentials (invalid_client): check its secret`,
        refreshFailed({ integration, class: 'invalid_client' }),
        1,
        props.alarmTopic,
      );
    }
  }

  private alarm(
    id: string,
    description: string,
    metric: cloudwatch.IMetric,
    threshold: number,
    topic: sns.ITopic | undefined,
  ): void {
    const alarm = new cloudwatch.Alarm(this, id, {
      alarmDescription: description,
      metric,
      threshold,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    if (topic) alarm.addAlarmAction(new cwActions.SnsAction(topic));
    this.alarms.push(alarm);
  }
}

/** `RefreshFailed` summed over five minutes, in the dimension set named (the service dimension always). */
function refreshFailed(dimensions: { integration: string; class?: RefreshFailureClass }): cloudwatch.Metric {
  const metricName: MetricName = 'RefreshFailed';
  return new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName,
    dimensionsMap: { service: METRICS_SERVICE, ...dimensions },
    statistic: cloudwatch.Stats.SUM,
    period: Duration.minutes(5),
  });
}
