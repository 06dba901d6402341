/**
 * The SNS topic every tokenvend alarm notifies: subscribe e-mail, chat or paging to it (output `AlarmTopicArn`).
 * Encrypted with its own KMS key, because CloudWatch alarms cannot publish to a topic under the AWS-managed SNS
 * key and must never be let near the token key: this key's policy lets CloudWatch (for this account's alarms)
 * encrypt notifications, nothing else.
 */
import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

export class AlarmTopic extends Construct {
  readonly topic: sns.Topic;

  constructor(scope: Construct, id: string, props: { envName: string }) {
    super(scope, id);
    const stack = Stack.of(this);
    const alarmArns = stack.formatArn({
      service: 'cloudwatch',
      resource: 'alarm',
      resourceName: '*',
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    const key = new kms.Key(this, 'Key', {
      description: `tokenvend ${props.envName}: encrypts alarm notifications on their SNS topic`,
      enableKeyRotation: true,
      pendingWindow: Duration.days(7),
      // Notifications are transient; nothing at rest depends on this key.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: `tokenvend ${props.envName} alarms`,
      masterKey: key,
      enforceSSL: true,
    });
    // A topic policy replaces SNS's default one, so CloudWatch is named explicitly (this account's alarms only).
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: {
          ArnLike: { 'aws:SourceArn': alarmArns },
          StringEquals: { 'aws:SourceAccount': stack.account },
        },
      }),
    );
  }
}
