/**
 * Remembers tokens that passed verification, so that a frontend polling `/vend` with the same JWT pays for the
 * RS256 signature check once, not on every call (it was two thirds of a warm vend's overhead).
 * Safe because verification is a pure function of the token and the keys: an entry lives at most `maxAgeMs`
 * and never past the token's own `exp`; failures are never cached. Keys are SHA-256 digests, not tokens.
 */
import { createHash } from 'node:crypto';

export interface VerifiedCacheOptions {
  /** Default 1,000 tokens (least recently used evicted first). */
  maxEntries?: number;
  /** Default 60 s. */
  maxAgeMs?: number;
  nowMs?: () => number;
}

export class VerifiedTokenCache<T> {
  readonly #entries = new Map<string, { value: T; expiresAtMs: number }>();
  readonly #maxEntries: number;
  readonly #maxAgeMs: number;
  readonly #nowMs: () => number;

  constructor(options: VerifiedCacheOptions = {}) {
    this.#maxEntries = options.maxEntries ?? 1_000;
    this.#maxAgeMs = options.maxAgeMs ?? 60_000;
    this.#nowMs = options.nowMs ?? Date.now;
  }

  static keyOf(token: string): string {
    return createHash('sha256').update(token, 'utf8').digest('base64url');
  }

  get(token: string): T | undefined {
    const key = VerifiedTokenCache.keyOf(token);
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    this.#entries.delete(key);
    if (entry.expiresAtMs <= this.#nowMs()) return undefined;
    this.#entries.set(key, entry);
    return entry.value;
  }

  /** `expSeconds`: the token's `exp` claim; the entry never outlives it. */
  set(token: string, value: T, expSeconds: number): void {
    if (this.#maxEntries <= 0) return;
    const expiresAtMs = Math.min(expSeconds * 1000, this.#nowMs() + this.#maxAgeMs);
    if (expiresAtMs <= this.#nowMs()) return;
    const key = VerifiedTokenCache.keyOf(token);
    this.#entries.delete(key);
    this.#entries.set(key, { value, expiresAtMs });
    while (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
    }
  }

  get size(): number {
    return this.#entries.size;
  }
}
