/** The KMS key that wraps the data keys encrypting tokens at rest (envelope encryption). */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import type { KeyUse } from './permissions.js';

/**
 * The encryption context the cipher sends with every GenerateDataKey and Decrypt
 * (functions/adapters/crypto/kms-keys.ts): these keys, nothing else.
 */
export const ENCRYPTION_CONTEXT_KEYS = ['integration', 'subject', 'kind'] as const;

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

  /**
   * Lets `grantee` use the key as `use` says, only under the cipher's encryption context: no other context
   * keys, one of `integrations` (this deployment's), one of the token kinds and subject spaces the function's
   * flows handle. Nothing when the deployment has no integration (there is no token to protect).
   */
  grantUse(grantee: iam.IGrantable, use: KeyUse, integrations: readonly string[]): void {
    if (integrations.length === 0 || use.actions.length === 0) return;
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: [...use.actions],
        resources: [this.key.keyArn],
        conditions: {
          'ForAllValues:StringEquals': { 'kms:EncryptionContextKeys': [...ENCRYPTION_CONTEXT_KEYS] },
          StringEquals: {
            'kms:EncryptionContext:integration': [...integrations],
            'kms:EncryptionContext:kind': [...use.kinds],
          },
          StringLike: { 'kms:EncryptionContext:subject': use.subjects.map((space) => `${space}:*`) },
        },
      }),
    );
  }
}
