/** The KMS key that wraps the data keys encrypting tokens at rest (envelope encryption). */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

export class TokenKey extends Construct {
  readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: { retain?: boolean } = {}) {
    super(scope, id);
    this.key = new kms.Key(this, 'Key', {
      description: 'tokenvend: wraps the data keys that encrypt vendor tokens at rest',
      enableKeyRotation: true,
      pendingWindow: Duration.days(30),
      removalPolicy: (props.retain ?? true) ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
  }

  /** Vend-only paths read tokens: Decrypt only. */
  grantRead(grantee: iam.IGrantable): void {
    this.key.grant(grantee, 'kms:Decrypt');
  }

  /** Paths that store new tokens (callback, ACS, refresh) also make data keys. */
  grantReadWrite(grantee: iam.IGrantable): void {
    this.key.grant(grantee, 'kms:Decrypt', 'kms:GenerateDataKey');
  }
}
