/**
 * Helpers for tests that prove a secret or token never leaks: fresh canary values, and every string an error
 * exposes (message, name, stack, own properties) along its cause chain.
 */
import { randomBytes } from 'node:crypto';

/** A token- or secret-like value unique to one test, so a leak check cannot pass by accident. */
export function canary(prefix = 'canary'): string {
  return `${prefix}-${randomBytes(24).toString('base64url')}`;
}

/** All text an error would show in a log line, a JSON dump or a stack trace, down its cause chain. */
export function errorText(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current && depth < 6; depth++) {
    if (current instanceof Error) parts.push(current.name, current.message, current.stack ?? '');
    if (typeof current === 'object') {
      parts.push(JSON.stringify(current, Object.getOwnPropertyNames(current)));
    } else {
      parts.push(String(current));
    }
    current = (current as { cause?: unknown }).cause;
  }
  return parts.join('\n');
}

/** The rejection of `promise` (fails the test if it resolves). */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => {
      throw new Error(`expected a rejection, got ${typeof value}`);
    },
    (error: unknown) => error,
  );
}
