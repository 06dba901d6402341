/**
 * A fixed-window attempt counter in the table: one item per hashed key with a count and the window's end (also its
 * TTL). Taking an attempt is one conditional UpdateItem while the window lasts and has room; a lapsed (or absent)
 * window is restarted by a second conditional update. Concurrent takers never exceed `max` within a window.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { AttemptLimiter } from '../../core/ports.js';
import { documentClient } from './connection-store.js';
import { attemptsKey, ITEM_KINDS, TABLE } from './schema.js';
import { isConditionFailed } from './update-expression.js';

export class DynamoAttemptLimiter implements AttemptLimiter {
  readonly #doc: DynamoDBDocumentClient;
  readonly #table: string;
  readonly #nowMs: () => number;

  constructor(options: { tableName: string; client?: DynamoDBClient; nowMs?: () => number }) {
    this.#doc = documentClient(options.client);
    this.#table = options.tableName;
    this.#nowMs = options.nowMs ?? Date.now;
  }

  async take(
    key: string,
    options: { max: number; windowSeconds: number },
  ): ReturnType<AttemptLimiter['take']> {
    const now = Math.floor(this.#nowMs() / 1000);
    const Key = attemptsKey(key);
    const names = { '#count': 'count', '#ttl': TABLE.ttlAttribute };
    // Two rounds: a restart that lost to a concurrent restart counts in the window that one opened.
    for (let round = 0; round < 2; round++) {
      try {
        await this.#doc.send(
          new UpdateCommand({
            TableName: this.#table,
            Key,
            UpdateExpression: 'SET #count = #count + :one',
            ConditionExpression: '#ttl > :now AND #count < :max',
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: { ':one': 1, ':now': now, ':max': options.max },
            // The refused item tells when its window ends (Retry-After), without a read permission.
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
        return { allowed: true };
      } catch (error) {
        if (!isConditionFailed(error)) throw error;
        const end = Number(
          (error as { Item?: Record<string, { N?: string }> }).Item?.[TABLE.ttlAttribute]?.N,
        );
        // A live, full window: refused at once (a guessing caller costs one write per attempt, not four).
        if (Number.isSafeInteger(end) && end > now) return { allowed: false, retryAfterSeconds: end - now };
      }
      try {
        await this.#doc.send(
          new UpdateCommand({
            TableName: this.#table,
            Key,
            UpdateExpression: 'SET #count = :one, #ttl = :end, #kind = :kind',
            ConditionExpression: 'attribute_not_exists(pk) OR #ttl <= :now',
            ExpressionAttributeNames: { ...names, '#kind': 'kind' },
            ExpressionAttributeValues: {
              ':one': 1,
              ':now': now,
              ':end': now + options.windowSeconds,
              ':kind': ITEM_KINDS.attempts,
            },
          }),
        );
        return { allowed: true };
      } catch (error) {
        if (!isConditionFailed(error)) throw error;
      }
    }
    // Without the refused item (dynalite, locally) the whole window is the wait.
    return { allowed: false, retryAfterSeconds: options.windowSeconds };
  }
}
