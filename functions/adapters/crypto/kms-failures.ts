/**
 * Tells a KMS outage from a bad ciphertext. The ESDK's KMS keyring folds KMS errors into its own
 * "Unable to decrypt data key" error, so the KMS client adapter records the failure in an async-local slot of
 * the operation that made the call; the cipher then reads it back. Safe under concurrency: each
 * encrypt/decrypt has its own slot.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

const slot = new AsyncLocalStorage<{ error?: unknown }>();

/** KMS answers that mean "this wrapped key is not valid for this key", i.e. a bad ciphertext, not an outage. */
const CIPHERTEXT_FAULTS = new Set(['InvalidCiphertextException', 'IncorrectKeyException']);

/** Called by the KMS client adapter when a KMS call throws. */
export function recordKmsFailure(error: unknown): void {
  const store = slot.getStore();
  if (store && store.error === undefined) store.error = error;
}

/** Runs `operation`, returning the first KMS failure it recorded that was an outage or refusal, if any. */
export async function trackKmsFailures<T>(
  operation: () => Promise<T>,
): Promise<{ ok: true; value: T } | { ok: false; error: unknown; kmsFailure: unknown }> {
  const store: { error?: unknown } = {};
  try {
    return { ok: true, value: await slot.run(store, operation) };
  } catch (error) {
    const name = (store.error as { name?: unknown } | undefined)?.name;
    const outage = store.error !== undefined && !(typeof name === 'string' && CIPHERTEXT_FAULTS.has(name));
    return { ok: false, error, kmsFailure: outage ? store.error : undefined };
  }
}
