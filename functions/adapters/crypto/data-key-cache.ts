/**
 * Per-container cache of plaintext data keys: LRU bounded by entry count, entries expire after `maxAgeMs`,
 * and concurrent misses on one key share a single load (one KMS call, not one per request). A failed load is
 * not cached. Evicted key bytes are zeroed.
 */
export interface CachedKey {
  /** The data key, imported once (importing per operation costs more than the AES itself). */
  key: import('node:crypto').KeyObject;
  /** Raw bytes, kept only to be zeroed on eviction. */
  raw: Buffer;
  /** The wrapped (encrypted) data key stored next to each ciphertext. */
  wrapped: Buffer;
}

interface Entry {
  value: Promise<CachedKey>;
  expiresAt: number;
  uses: number;
}

export class DataKeyCache {
  readonly #entries = new Map<string, Entry>();
  readonly #maxEntries: number;
  readonly #maxAgeMs: number;
  readonly #now: () => number;

  constructor(options: { maxEntries: number; maxAgeMs: number; now?: () => number }) {
    this.#maxEntries = Math.max(0, options.maxEntries);
    this.#maxAgeMs = options.maxAgeMs;
    this.#now = options.now ?? Date.now;
  }

  /**
   * The cached key for `id`, or the result of `load` (then cached). `maxUses` retires an entry after that
   * many hits (bounds how many messages one data key encrypts).
   */
  get(id: string, load: () => Promise<CachedKey>, maxUses = Number.POSITIVE_INFINITY): Promise<CachedKey> {
    const now = this.#now();
    const entry = this.#entries.get(id);
    if (entry && entry.expiresAt > now && entry.uses < maxUses) {
      entry.uses++;
      // Re-insert: Map iteration order is insertion order, so the first key is the least recently used.
      this.#entries.delete(id);
      this.#entries.set(id, entry);
      return entry.value;
    }
    if (entry) this.#evict(id, entry);
    const value = load();
    if (this.#maxEntries === 0) return value;
    const fresh: Entry = { value, expiresAt: now + this.#maxAgeMs, uses: 1 };
    this.#entries.set(id, fresh);
    value.catch(() => {
      if (this.#entries.get(id) === fresh) this.#entries.delete(id);
    });
    while (this.#entries.size > this.#maxEntries) {
      const [oldest, oldestEntry] = this.#entries.entries().next().value as [string, Entry];
      this.#evict(oldest, oldestEntry);
    }
    return value;
  }

  #evict(id: string, entry: Entry): void {
    this.#entries.delete(id);
    // In-flight users still hold the KeyObject; only the raw copy is wiped.
    entry.value.then(
      (cached) => cached.raw.fill(0),
      () => undefined,
    );
  }
}
