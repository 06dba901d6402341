/**
 * The interfaces core logic needs from the outside world. Adapters implement them (AWS in the cloud,
 * embedded backends locally); handlers wire one instance of each per container.
 */
import type { ClientSecret } from './oauth/client-auth.js';

/** Names what a ciphertext belongs to; decrypting under another context must fail. */
export interface EncryptionContext {
  integration: string;
  subject: string;
  kind: 'access_token' | 'refresh_token' | 'id_token';
}

/** Envelope encryption of tokens at rest (KMS in AWS, a local AES key in local mode and tests). */
export interface TokenCipher {
  /** Returns an opaque, self-describing string (version, wrapped data key, iv, ciphertext, tag). */
  encrypt(plaintext: string, context: EncryptionContext): Promise<string>;
  /** Throws a typed error when the ciphertext was not made under `context`. */
  decrypt(ciphertext: string, context: EncryptionContext): Promise<string>;
}

/** Where client secrets come from (Secrets Manager in AWS, the local config file locally). */
export interface SecretSource {
  /**
   * The client credentials of an integration. `refresh: true` bypasses the cache once, after the vendor
   * answered invalid_client (the secret may have been rotated).
   */
  getClientSecret(integration: string, options?: { refresh?: boolean }): Promise<ClientSecret>;
}

/** Epoch seconds; injected so tests control time. */
export type Clock = () => number;

/** Remembers SAML assertion IDs until they expire, across all Lambdas (a conditional put in DynamoDB). */
export interface AssertionReplayGuard {
  /**
   * Records `assertionId` for `integration` until `expiresAt` (epoch seconds). Returns false when the ID
   * was already recorded (a replay).
   */
  claim(integration: string, assertionId: string, expiresAt: number): Promise<boolean>;
}
