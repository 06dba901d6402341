/**
 * Data keys wrapped with a local 256-bit AES key (AES-256-GCM, AAD = canonical encryption context), for
 * `npm start` and tests. Same binding as KMS: a wrapped key unwraps only under the context it was made for.
 * Wrapped form: `iv (12) || encrypted key (32) || tag (16)`.
 */
import { createCipheriv, createDecipheriv, createSecretKey, randomBytes } from 'node:crypto';
import { ConfigError } from '../../core/errors.js';
import type { EncryptionContext } from '../../core/ports.js';
import { canonicalContext, type KeyWrapper, KeyWrapperError } from './envelope.js';

export function localKeyWrapper(key: Uint8Array): KeyWrapper {
  if (key.byteLength !== 32) {
    throw new ConfigError(`the local token key must be 32 bytes, got ${key.byteLength}`);
  }
  // A KeyObject copies the bytes: a caller zeroing its buffer later cannot break us.
  const master = createSecretKey(Buffer.from(key));
  const aad = (context: EncryptionContext) =>
    Buffer.from(`local-wrap\u0000${canonicalContext(context)}`, 'utf8');

  return {
    source: 'local',
    async generate(context) {
      const raw = randomBytes(32);
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', master, iv);
      cipher.setAAD(aad(context));
      const wrapped = Buffer.concat([iv, cipher.update(raw), cipher.final(), cipher.getAuthTag()]);
      return { raw, wrapped };
    },
    async unwrap(wrapped, context) {
      if (wrapped.length !== 12 + 32 + 16)
        throw new KeyWrapperError('integrity', 'wrapped key has the wrong size');
      try {
        const decipher = createDecipheriv('aes-256-gcm', master, wrapped.subarray(0, 12));
        decipher.setAAD(aad(context));
        decipher.setAuthTag(wrapped.subarray(44));
        return Buffer.concat([decipher.update(wrapped.subarray(12, 44)), decipher.final()]);
      } catch {
        throw new KeyWrapperError('integrity', 'wrapped key does not open under this key and context');
      }
    },
  };
}
