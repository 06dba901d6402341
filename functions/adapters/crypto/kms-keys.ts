/**
 * Data keys from AWS KMS: `GenerateDataKey` (AES_256) on encrypt, `Decrypt` on a cache miss, both with the
 * encryption context {integration, subject, kind}: KMS refuses to unwrap under any other context, CloudTrail
 * records it, and key policies can condition on it (`kms:EncryptionContext:integration`).
 * https://docs.aws.amazon.com/kms/latest/developerguide/encrypt_context.html
 */
import {
  DecryptCommand,
  type DecryptCommandOutput,
  GenerateDataKeyCommand,
  type KMSClient,
} from '@aws-sdk/client-kms';
import type { EncryptionContext } from '../../core/ports.js';
import { type KeyWrapper, KeyWrapperError } from './envelope.js';

/** KMS answers meaning "this wrapped key does not open here" (bad or foreign ciphertext), not an outage. */
const CIPHERTEXT_FAULTS = new Set(['InvalidCiphertextException', 'IncorrectKeyException']);

function kmsContext(context: EncryptionContext): Record<string, string> {
  return { integration: context.integration, subject: context.subject, kind: context.kind };
}

export function kmsKeyWrapper(kms: KMSClient, keyId: string): KeyWrapper {
  return {
    source: 'kms',
    async generate(context) {
      const out = await kms.send(
        new GenerateDataKeyCommand({
          KeyId: keyId,
          KeySpec: 'AES_256',
          EncryptionContext: kmsContext(context),
        }),
      );
      if (out.Plaintext?.length !== 32 || !out.CiphertextBlob) {
        throw new Error('KMS GenerateDataKey returned no usable key');
      }
      return { raw: Buffer.from(out.Plaintext), wrapped: Buffer.from(out.CiphertextBlob) };
    },
    async unwrap(wrapped, context) {
      let out: DecryptCommandOutput;
      try {
        // KeyId pins the key: KMS refuses a blob made under any other key (IncorrectKeyException).
        out = await kms.send(
          new DecryptCommand({
            CiphertextBlob: wrapped,
            KeyId: keyId,
            EncryptionContext: kmsContext(context),
          }),
        );
      } catch (error) {
        const name = (error as { name?: unknown }).name;
        if (typeof name === 'string' && CIPHERTEXT_FAULTS.has(name)) {
          throw new KeyWrapperError('integrity', 'KMS will not unwrap this data key under this context', {
            cause: error,
          });
        }
        throw new KeyWrapperError('kms', 'KMS refused or failed', { cause: error });
      }
      if (out.Plaintext?.length !== 32) {
        throw new KeyWrapperError('integrity', 'KMS returned no 32-byte data key');
      }
      return Buffer.from(out.Plaintext);
    },
  };
}
