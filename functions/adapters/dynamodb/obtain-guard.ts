/**
 * The obtain guard in the table: one item per hashed key with the lease (`leaseOwner`, `leaseExpiresAtMs`) and,
 * after a vendor failure, `notBefore`. Acquiring is one conditional UpdateItem (no live lease, not before
 * `notBefore`); the refused caller learns `notBefore` from `ReturnValuesOnConditionCheckFailure` (no read
 * permission needed). Releasing is conditional on still being the owner.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { ObtainGuard } from '../../core/ports.js';
import { documentClient } from './connection-store.js';
import { ITEM_KINDS, obtainKey, TABLE } from './schema.js';
import { isConditionFailed } from './update-expression.js';

/** The item outlives the lease or the wait by this much, then DynamoDB may delete it. */
const GRACE_SECONDS = 3_600;

export class DynamoObtainGuard implements ObtainGuard {
  readonly #doc: DynamoDBDocumentClient;
  readonly #table: string;
  readonly #nowMs: () => number;

  constructor(options: { tableName: string; client?: DynamoDBClient; nowMs?: () => number }) {
    this.#doc = documentClient(options.client);
    this.#table = options.tableName;
    this.#nowMs = options.nowMs ?? Date.now;
  }

  async acquire(key: string, owner: string, leaseMs: number): ReturnType<ObtainGuard['acquire']> {
    const nowMs = this.#nowMs();
    const now = Math.floor(nowMs / 1000);
    try {
      await this.#doc.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: obtainKey(key),
          UpdateExpression: 'SET #owner = :owner, #lease = :lease, #ttl = :ttl, #kind = :kind',
          ConditionExpression:
            '(attribute_not_exists(#owner) OR #lease < :nowMs) AND (attribute_not_exists(#nb) OR #nb <= :now)',
          ExpressionAttributeNames: {
            '#owner': 'leaseOwner',
            '#lease': 'leaseExpiresAtMs',
            '#nb': 'notBefore',
            '#ttl': TABLE.ttlAttribute,
            '#kind': 'kind',
          },
          ExpressionAttributeValues: {
            ':owner': owner,
            ':lease': nowMs + leaseMs,
            ':nowMs': nowMs,
            ':now': now,
            ':ttl': now + Math.ceil(leaseMs / 1000) + GRACE_SECONDS,
            ':kind': ITEM_KINDS.obtain,
          },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { acquired: true };
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
      const old = (error as { Item?: Record<string, { N?: string }> }).Item;
      // DynamoDB returns the refused item; a stand-in that does not (dynalite, locally) is asked with a read.
      const notBefore = old
        ? Number(old.notBefore?.N)
        : Number(
            (
              await this.#doc.send(
                new GetCommand({ TableName: this.#table, Key: obtainKey(key), ConsistentRead: true }),
              )
            ).Item?.notBefore,
          );
      return {
        acquired: false,
        notBefore: Number.isSafeInteger(notBefore) && notBefore > now ? notBefore : undefined,
      };
    }
  }

  async release(key: string, owner: string, notBefore?: number): Promise<void> {
    const now = Math.floor(this.#nowMs() / 1000);
    try {
      await this.#doc.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: obtainKey(key),
          UpdateExpression:
            notBefore === undefined
              ? 'REMOVE #owner, #lease, #nb SET #ttl = :ttl'
              : 'REMOVE #owner, #lease SET #nb = :nb, #ttl = :ttl',
          ConditionExpression: '#owner = :owner',
          ExpressionAttributeNames: {
            '#owner': 'leaseOwner',
            '#lease': 'leaseExpiresAtMs',
            '#nb': 'notBefore',
            '#ttl': TABLE.ttlAttribute,
          },
          ExpressionAttributeValues: {
            ':owner': owner,
            ':ttl': Math.max(now, notBefore ?? now) + GRACE_SECONDS,
            ...(notBefore === undefined ? {} : { ':nb': notBefore }),
          },
        }),
      );
    } catch (error) {
      // Our lease lapsed and someone else holds it now: theirs to release.
      if (!isConditionFailed(error)) throw error;
    }
  }
}
