/**
 * SAML assertion-ID replay records: one conditional put per assertion, kept until the assertion's
 * NotOnOrAfter plus the clock skew the validator allows (after that the assertion fails validation anyway).
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { AssertionReplayGuard } from '../../core/ports.js';
import { documentClient } from './connection-store.js';
import { ITEM_KINDS, samlAssertionKey, TABLE } from './schema.js';
import { isConditionFailed } from './update-expression.js';

export class DynamoAssertionReplayGuard implements AssertionReplayGuard {
  readonly #doc: DynamoDBDocumentClient;
  readonly #table: string;
  readonly #skewSeconds: number;
  readonly #nowMs: () => number;

  constructor(options: {
    tableName: string;
    client?: DynamoDBClient;
    /** The clock skew the SAML validator accepts; the record outlives NotOnOrAfter by this much. */
    clockSkewSeconds?: number;
    nowMs?: () => number;
  }) {
    this.#doc = documentClient(options.client);
    this.#table = options.tableName;
    this.#skewSeconds = options.clockSkewSeconds ?? 300;
    this.#nowMs = options.nowMs ?? Date.now;
  }

  async claim(integration: string, assertionId: string, expiresAt: number): Promise<boolean> {
    const now = Math.floor(this.#nowMs() / 1000);
    try {
      await this.#doc.send(
        new PutCommand({
          TableName: this.#table,
          Item: {
            ...samlAssertionKey(integration, assertionId),
            kind: ITEM_KINDS.samlAssertion,
            integration,
            [TABLE.ttlAttribute]: expiresAt + this.#skewSeconds,
          },
          // An expired record that DynamoDB has not deleted yet does not count.
          ConditionExpression: 'attribute_not_exists(pk) OR #ttl <= :now',
          ExpressionAttributeNames: { '#ttl': TABLE.ttlAttribute },
          ExpressionAttributeValues: { ':now': now },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailed(error)) return false;
      throw error;
    }
  }
}
