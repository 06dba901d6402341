/**
 * Token ciphers: `createKmsCipher` in AWS, `createLocalCipher` locally and in tests. Both run the same
 * envelope-encryption code (AES-256-GCM + per-container data-key cache); only the wrapping of data keys
 * differs (KMS vs a local AES key).
 */
import { KMSClient } from '@aws-sdk/client-kms';
import { ConfigError } from '../../core/errors.js';
import type { TokenCipher } from '../../core/ports.js';
import { type CipherCacheOptions, createEnvelopeCipher } from './envelope.js';
import { kmsKeyWrapper } from './kms-keys.js';
import { localKeyWrapper } from './local-keys.js';

export { type CipherCacheOptions, FORMAT_VERSION } from './envelope.js';
export { DecryptionError, type DecryptionFailure, EncryptionError } from './errors.js';

/** A cipher whose data keys are wrapped with a local 256-bit AES key. For `npm start` and tests. */
export function createLocalCipher(
  key: Uint8Array,
  options: { cache?: CipherCacheOptions } = {},
): TokenCipher {
  return createEnvelopeCipher(localKeyWrapper(key), options.cache);
}

/**
 * A cipher whose data keys come from KMS key `keyId` (key ARN, key id or alias ARN; an ARN is best, it also
 * pins the region). `kms` defaults to a client for the Lambda's region.
 */
export function createKmsCipher(options: {
  keyId: string;
  kms?: KMSClient;
  cache?: CipherCacheOptions;
}): TokenCipher {
  if (!options.keyId) throw new ConfigError('the token KMS key id is empty');
  return createEnvelopeCipher(kmsKeyWrapper(options.kms ?? new KMSClient({}), options.keyId), options.cache);
}
