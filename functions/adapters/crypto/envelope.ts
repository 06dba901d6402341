/**
 * Envelope encryption of tokens: each token is sealed with AES-256-GCM under a data key; the data key is
 * stored wrapped (by KMS in AWS, by a local AES key locally) next to it. One code path for every key source;
 * only the `KeyWrapper` differs. Data keys are cached per container, so a warm decrypt and repeated encrypts
 * under one context make no KMS call.
 *
 * Stored format (all base64url, `.`-separated):
 *   `tv1.<source>.<wrapped data key>.<iv (12 bytes)>.<ciphertext || tag (16 bytes)>`
 * The GCM additional data is the canonical encryption context plus the wrapped key, so a ciphertext moved
 * to another row (other integration, subject or kind) or given another wrapped key fails authentication.
 * KMS also binds the wrapped data key to the same context.
 * NIST SP 800-38D (GCM): https://csrc.nist.gov/pubs/sp/800/38/d/final
 */
import { createCipheriv, createDecipheriv, createHash, createSecretKey, randomBytes } from 'node:crypto';
import type { EncryptionContext, TokenCipher } from '../../core/ports.js';
import { type CachedKey, DataKeyCache } from './data-key-cache.js';
import { DecryptionError, type DecryptionFailure, EncryptionError } from './errors.js';

export const FORMAT_VERSION = 'tv1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Tokens are a few KB; anything far larger in the column is not ours. */
const MAX_CIPHERTEXT_CHARS = 64 * 1024;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** Where data keys come from and how they are wrapped. */
export interface KeyWrapper {
  /** Short tag stored in each ciphertext (`kms`, `local`). */
  readonly source: string;
  /** A fresh 32-byte data key and its wrapped form, bound to `context`. */
  generate(context: EncryptionContext): Promise<{ raw: Buffer; wrapped: Buffer }>;
  /** The data key inside `wrapped`; throws a `KeyWrapperError` when it cannot be unwrapped under `context`. */
  unwrap(wrapped: Buffer, context: EncryptionContext): Promise<Buffer>;
}

/** Thrown by a KeyWrapper; `reason` tells a bad wrapped key (`integrity`) from an outage (`kms`). */
export class KeyWrapperError extends Error {
  constructor(
    readonly reason: Extract<DecryptionFailure, 'integrity' | 'kms'>,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'KeyWrapperError';
  }
}

/** Data-key cache limits. */
export interface CipherCacheOptions {
  /** How long a data key is reused (encrypt) and remembered (decrypt). Default 300 s. */
  maxAgeSeconds?: number;
  /** Entries per cache (one per context for encrypt, one per wrapped key for decrypt). Default 1000. */
  maxEntries?: number;
  /** Messages one data key may encrypt before a fresh one is made. Default 1000 (GCM random-IV bound: 2^32). */
  maxMessagesEncrypted?: number;
}

/** Unambiguous bytes of a context: JSON of a fixed-order array, so no field can bleed into another. */
export function canonicalContext(context: EncryptionContext): string {
  return JSON.stringify([FORMAT_VERSION, context.integration, context.subject, context.kind]);
}

function additionalData(canonical: string, wrapped: Buffer): Buffer {
  return Buffer.concat([Buffer.from(canonical, 'utf8'), Buffer.from([0]), wrapped]);
}

function imported(raw: Buffer, wrapped: Buffer): CachedKey {
  return { key: createSecretKey(raw), raw, wrapped };
}

/** Builds a TokenCipher over `wrapper`, with per-container data-key caches. */
export function createEnvelopeCipher(wrapper: KeyWrapper, cache: CipherCacheOptions = {}): TokenCipher {
  const limits = {
    maxEntries: cache.maxEntries ?? 1000,
    maxAgeMs: (cache.maxAgeSeconds ?? 300) * 1000,
  };
  const maxMessages = cache.maxMessagesEncrypted ?? 1000;
  const encryptKeys = new DataKeyCache(limits);
  const decryptKeys = new DataKeyCache(limits);

  return {
    async encrypt(plaintext, context) {
      const canonical = canonicalContext(context);
      let dataKey: CachedKey;
      try {
        dataKey = await encryptKeys.get(
          canonical,
          async () => {
            const { raw, wrapped } = await wrapper.generate(context);
            return imported(raw, wrapped);
          },
          maxMessages,
        );
      } catch (error) {
        throw new EncryptionError(context, `no data key from ${wrapper.source}`, error);
      }
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', dataKey.key, iv, { authTagLength: TAG_BYTES });
      cipher.setAAD(additionalData(canonical, dataKey.wrapped));
      const sealed = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
      return [
        FORMAT_VERSION,
        wrapper.source,
        dataKey.wrapped.toString('base64url'),
        iv.toString('base64url'),
        sealed.toString('base64url'),
      ].join('.');
    },

    async decrypt(ciphertext, context) {
      const fail = (reason: DecryptionFailure, problem: string, cause?: unknown) =>
        new DecryptionError(context, reason, problem, cause);
      if (ciphertext.length > MAX_CIPHERTEXT_CHARS) throw fail('format', 'ciphertext too large');
      const parts = ciphertext.split('.');
      const [version, source, wrappedText, ivText, sealedText] = parts;
      if (parts.length !== 5 || version !== FORMAT_VERSION)
        throw fail('format', 'not a tokenvend ciphertext');
      if (source !== wrapper.source) {
        throw fail('format', `ciphertext was made with a ${source} key, this cipher uses ${wrapper.source}`);
      }
      if (![wrappedText, ivText, sealedText].every((text) => text && BASE64URL.test(text))) {
        throw fail('format', 'ciphertext is not base64url');
      }
      const wrapped = Buffer.from(wrappedText!, 'base64url');
      const iv = Buffer.from(ivText!, 'base64url');
      const sealed = Buffer.from(sealedText!, 'base64url');
      if (iv.length !== IV_BYTES || sealed.length < TAG_BYTES)
        throw fail('format', 'ciphertext is truncated');

      const canonical = canonicalContext(context);
      // The context is part of the cache key: a cached key is only reused for the context KMS checked it under.
      const cacheId = `${canonical}\u0000${createHash('sha256').update(wrapped).digest('base64url')}`;
      let dataKey: CachedKey;
      try {
        dataKey = await decryptKeys.get(cacheId, async () =>
          imported(await wrapper.unwrap(wrapped, context), wrapped),
        );
      } catch (error) {
        const reason = error instanceof KeyWrapperError ? error.reason : 'kms';
        throw fail(
          reason,
          reason === 'kms' ? 'KMS refused or failed' : 'data key cannot be unwrapped for this context',
          error,
        );
      }
      try {
        const decipher = createDecipheriv('aes-256-gcm', dataKey.key, iv, { authTagLength: TAG_BYTES });
        decipher.setAAD(additionalData(canonical, wrapped));
        decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
        const plain = Buffer.concat([
          decipher.update(sealed.subarray(0, sealed.length - TAG_BYTES)),
          decipher.final(),
        ]);
        return plain.toString('utf8');
      } catch {
        // node:crypto's message ("Unsupported state or unable to authenticate data") adds nothing; no cause.
        throw fail('integrity', 'ciphertext failed authentication (tampered, or made for another row)');
      }
    },
  };
}
