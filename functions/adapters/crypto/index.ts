/**
 * Token ciphers: `createKmsCipher` in AWS, `createLocalCipher` locally and in tests. Both run the same
 * envelope-encryption code (AWS Encryption SDK + data-key cache); only the keyring that wraps data keys differs.
 */

import { KmsKeyringNode, RawAesKeyringNode, RawAesWrappingSuiteIdentifier } from '@aws-crypto/client-node';
import {
  DecryptCommand,
  type DecryptCommandInput,
  EncryptCommand,
  type EncryptCommandInput,
  GenerateDataKeyCommand,
  type GenerateDataKeyCommandInput,
  KMSClient,
} from '@aws-sdk/client-kms';
import { ConfigError } from '../../core/errors.js';
import type { TokenCipher } from '../../core/ports.js';
import { type CipherCacheOptions, createEsdkCipher } from './esdk-cipher.js';
import { recordKmsFailure } from './kms-failures.js';

export { DecryptionError, type DecryptionFailure, EncryptionError } from './errors.js';
export type { CipherCacheOptions } from './esdk-cipher.js';
export { FORMAT_PREFIX } from './esdk-cipher.js';

/** Recorded in each message as the wrapping key's provider; decrypting needs the same namespace and name. */
const LOCAL_KEY_NAMESPACE = 'tokenvend-local';

/**
 * A cipher whose data keys are wrapped with a local 256-bit AES key (AES-GCM). For `npm start` and tests.
 * `keyName` is stored in each message: change it when the key changes so old rows fail with a clear error.
 */
export function createLocalCipher(
  key: Uint8Array,
  options: { keyName?: string; cache?: CipherCacheOptions } = {},
): TokenCipher {
  if (key.byteLength !== 32) {
    throw new ConfigError(`the local token key must be 32 bytes, got ${key.byteLength}`);
  }
  const keyName = options.keyName ?? 'local-v1';
  const keyring = new RawAesKeyringNode({
    keyNamespace: LOCAL_KEY_NAMESPACE,
    keyName,
    // The keyring keeps a reference; copy so a caller zeroing its buffer cannot break us (or vice versa).
    unencryptedMasterKey: new Uint8Array(key),
    wrappingSuite: RawAesWrappingSuiteIdentifier.AES256_GCM_IV12_TAG16_NO_PADDING,
  });
  return createEsdkCipher(keyring, { partition: `local:${keyName}`, cache: options.cache });
}

/**
 * The ESDK's KMS keyring calls `generateDataKey`/`decrypt`/`encrypt` methods (the aggregated `KMS` class);
 * this adapts a bare `KMSClient`, so callers can pass the one client they configured (endpoint, middleware).
 */
function esdkKmsClient(kms: KMSClient) {
  const recorded = <T>(call: Promise<T>): Promise<T> =>
    call.catch((error: unknown) => {
      recordKmsFailure(error);
      throw error;
    });
  return {
    generateDataKey: (input: GenerateDataKeyCommandInput) =>
      recorded(kms.send(new GenerateDataKeyCommand(input))),
    decrypt: (input: DecryptCommandInput) => recorded(kms.send(new DecryptCommand(input))),
    encrypt: (input: EncryptCommandInput) => recorded(kms.send(new EncryptCommand(input))),
  };
}

/**
 * A cipher whose data keys come from KMS (`GenerateDataKey` on encrypt, `Decrypt` on a cache miss), with the
 * encryption context passed to KMS too (CloudTrail shows it; key policies can condition on it).
 * `keyId` must be a key ARN: the keyring matches stored wrapped keys by ARN when decrypting.
 */
export function createKmsCipher(options: {
  keyId: string;
  kms?: KMSClient;
  cache?: CipherCacheOptions;
}): TokenCipher {
  if (!/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/.+$/.test(options.keyId)) {
    throw new ConfigError(
      'the token KMS key must be given as a key ARN (arn:aws:kms:<region>:<account>:key/<id>)',
    );
  }
  const client = esdkKmsClient(options.kms ?? new KMSClient({}));
  const keyring = new KmsKeyringNode({
    generatorKeyId: options.keyId,
    // One client for every region: the key ARN pins the region, and the client was built for it.
    clientProvider: () => client,
  });
  return createEsdkCipher(keyring, { partition: `kms:${options.keyId}`, cache: options.cache });
}
