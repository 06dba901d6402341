/**
 * An in-memory AssertionReplayGuard: a test double of the port (the DynamoDB conditional-put adapter is
 * tested against DynamoDB Local). Records every claim so tests can assert that a rejected response never
 * burned an assertion ID.
 */
import type { AssertionReplayGuard } from '../../functions/core/ports.js';

export class MemoryAssertionReplayGuard implements AssertionReplayGuard {
  /** Every call, accepted or not, in order. */
  readonly claims: { integration: string; assertionId: string; expiresAt: number }[] = [];
  private readonly seen = new Map<string, number>();

  async claim(integration: string, assertionId: string, expiresAt: number): Promise<boolean> {
    this.claims.push({ integration, assertionId, expiresAt });
    const key = `${integration}\u0000${assertionId}`;
    if (this.seen.has(key)) return false;
    this.seen.set(key, expiresAt);
    return true;
  }
}
