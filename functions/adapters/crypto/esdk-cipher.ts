/**
 * Envelope encryption of tokens with the AWS Encryption SDK (ESDK). One code path for every key source: the
 * keyring is KMS in AWS and a raw AES key locally and in tests; a caching materials manager keeps data keys so
 * a warm decrypt of a known ciphertext (and a repeated encrypt under the same context) makes no KMS call.
 *
 * Stored format: `tv1.` + base64url(ESDK message). The ESDK message is self-describing: version, algorithm
 * suite, encryption context, wrapped data key(s), IV, ciphertext, tag and key commitment.
 * https://docs.aws.amazon.com/encryption-sdk/latest/developer-guide/message-format.html
 */
import {
  AlgorithmSuiteIdentifier,
  buildClient,
  CommitmentPolicy,
  getLocalCryptographicMaterialsCache,
  type KeyringNode,
  type MessageHeader,
  NodeCachingMaterialsManager,
} from '@aws-crypto/client-node';
import type { EncryptionContext, TokenCipher } from '../../core/ports.js';
import { DecryptionError, EncryptionError } from './errors.js';
import { trackKmsFailures } from './kms-failures.js';

/** Version prefix of our stored strings; a new format gets a new prefix, readers dispatch on it. */
export const FORMAT_PREFIX = 'tv1.';

/**
 * Non-signing, key-committing suite: signing adds an ECDSA sign/verify per message (~ms) and buys nothing
 * here, because every reader of the table is also trusted to write it.
 */
const SUITE = AlgorithmSuiteIdentifier.ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY;

/** Tokens are a few KB at most; anything far larger in the column is not ours. */
const MAX_CIPHERTEXT_CHARS = 64 * 1024;

/** Data-key cache limits. */
export interface CipherCacheOptions {
  /** How long a data key is reused (encrypt) and remembered (decrypt). Default 300 s. */
  maxAgeSeconds?: number;
  /** Entries in the LRU (one per context for encrypt, one per distinct wrapped key for decrypt). Default 1000. */
  maxEntries?: number;
  /** Messages one cached data key may encrypt before a fresh one is made. Default 1000. */
  maxMessagesEncrypted?: number;
}

const { encrypt, decrypt } = buildClient({
  commitmentPolicy: CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT,
  // We always write exactly one wrapped data key; refusing more bounds the work an injected row can cause.
  maxEncryptedDataKeys: 1,
});

/** The context as the ESDK stores it (and as KMS sees it, so key policies can condition on it). */
function toEsdkContext(context: EncryptionContext): Record<string, string> {
  return { integration: context.integration, subject: context.subject, kind: context.kind };
}

/**
 * The ESDK stores the context inside the message and decrypts under that stored context, so it never fails on
 * its own when a row's ciphertext is moved to another row: we compare the message's context to the expected
 * one, exactly (no missing and no extra keys).
 */
function sameContext(header: MessageHeader, expected: Record<string, string>): boolean {
  const actual = header.encryptionContext;
  const keys = Object.keys(actual);
  return keys.length === Object.keys(expected).length && keys.every((key) => actual[key] === expected[key]);
}

/** Builds a TokenCipher over `keyring`, with data-key caching. */
export function createEsdkCipher(
  keyring: KeyringNode,
  options: { partition: string; cache?: CipherCacheOptions | undefined },
): TokenCipher {
  const maxAgeMs = (options.cache?.maxAgeSeconds ?? 300) * 1000;
  const materials = new NodeCachingMaterialsManager({
    backingMaterials: keyring,
    cache: getLocalCryptographicMaterialsCache(options.cache?.maxEntries ?? 1000),
    // A partition per cipher keeps two ciphers sharing one cache from ever serving each other's keys.
    partition: options.partition,
    maxAge: maxAgeMs,
    maxMessagesEncrypted: options.cache?.maxMessagesEncrypted ?? 1000,
  });

  return {
    async encrypt(plaintext, context) {
      const outcome = await trackKmsFailures(() =>
        encrypt(materials, Buffer.from(plaintext, 'utf8'), {
          suiteId: SUITE,
          encryptionContext: toEsdkContext(context),
        }),
      );
      if (outcome.ok) return FORMAT_PREFIX + outcome.value.result.toString('base64url');
      if (outcome.kmsFailure !== undefined) {
        throw new EncryptionError(context, 'KMS refused or failed', outcome.kmsFailure);
      }
      throw new EncryptionError(context, 'encryption failed', outcome.error);
    },

    async decrypt(ciphertext, context) {
      if (!ciphertext.startsWith(FORMAT_PREFIX) || ciphertext.length > MAX_CIPHERTEXT_CHARS) {
        throw new DecryptionError(context, 'format', 'not a tokenvend ciphertext');
      }
      const body = ciphertext.slice(FORMAT_PREFIX.length);
      if (!/^[A-Za-z0-9_-]+$/.test(body)) {
        throw new DecryptionError(context, 'format', 'ciphertext is not base64url');
      }
      const outcome = await trackKmsFailures(() =>
        decrypt(materials, Buffer.from(body, 'base64url'), { maxBodySize: MAX_CIPHERTEXT_CHARS }),
      );
      if (!outcome.ok) {
        if (outcome.kmsFailure !== undefined) {
          throw new DecryptionError(context, 'kms', 'KMS refused or failed', outcome.kmsFailure);
        }
        throw new DecryptionError(
          context,
          'integrity',
          'ciphertext is malformed or failed authentication',
          outcome.error,
        );
      }
      const output = outcome.value;
      const expected = toEsdkContext(context);
      if (!sameContext(output.messageHeader, expected) || output.messageHeader.suiteId !== SUITE) {
        output.plaintext.fill(0);
        throw new DecryptionError(
          context,
          'context',
          'ciphertext belongs to another integration, subject or kind',
        );
      }
      return output.plaintext.toString('utf8');
    },
  };
}
