/**
 * An in-memory SamlRequestStore: a test double of the port (the DynamoDB adapter is tested against DynamoDB
 * Local). Records every consume so tests can assert that a rejected response never used up its request.
 */
import type { SamlRequestRecord, SamlRequestStore } from '../../functions/core/saml/requests.js';

export class MemorySamlRequestStore implements SamlRequestStore {
  readonly consumed: { requestId: string; integration: string; found: boolean }[] = [];
  private readonly items = new Map<string, { record: SamlRequestRecord; expiresAt: number; used: boolean }>();

  async put(requestId: string, record: SamlRequestRecord, expiresAt: number): Promise<void> {
    if (this.items.has(requestId)) throw new Error('request ID exists');
    this.items.set(requestId, { record, expiresAt, used: false });
  }

  async consume(requestId: string, integration: string, now: number): Promise<SamlRequestRecord | undefined> {
    const item = this.items.get(requestId);
    const found = !!item && !item.used && item.record.integration === integration && item.expiresAt > now;
    this.consumed.push({ requestId, integration, found });
    if (!item || !found) return undefined;
    item.used = true;
    return item.record;
  }
}
