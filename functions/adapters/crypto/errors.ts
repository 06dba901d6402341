/**
 * Typed errors of token encryption. Messages name the integration, the kind and what went wrong; they never
 * carry a plaintext, a ciphertext or key material (nor does any `cause` we attach: KMS errors come from the
 * service and name the key, not the data; GCM failures get no cause).
 */
import { TokenvendError } from '../../core/errors.js';
import type { EncryptionContext } from '../../core/ports.js';

/** Why a decrypt failed. */
export type DecryptionFailure =
  /** Not a ciphertext of ours (wrong version or key source, not base64url, truncated, too large). */
  | 'format'
  /**
   * Authentication failed: tampered bytes, a key we do not hold, or a ciphertext made for another
   * integration, subject or kind (rows swapped). These cannot be told apart without storing the context.
   */
  | 'integrity'
  /** KMS refused or was unreachable (access denied, disabled key, throttling, network). */
  | 'kms';

/** Describes a context without the subject: subjects are user ids and belong in logs only where needed. */
function describe(context: EncryptionContext): string {
  return `${context.kind} of integration ${context.integration}`;
}

/** A token could not be encrypted (KMS failure or bad configuration); nothing was written. */
export class EncryptionError extends TokenvendError {
  constructor(context: EncryptionContext, problem: string, cause?: unknown) {
    super(`cannot encrypt ${describe(context)}: ${problem}`, { error: 'server_error', status: 500, cause });
  }
}

/** A stored token could not be decrypted under the expected context. */
export class DecryptionError extends TokenvendError {
  readonly reason: DecryptionFailure;

  constructor(context: EncryptionContext, reason: DecryptionFailure, problem: string, cause?: unknown) {
    super(`cannot decrypt ${describe(context)}: ${problem}`, { error: 'server_error', status: 500, cause });
    this.reason = reason;
  }
}
