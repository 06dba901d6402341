/**
 * Single-use connect-flow state records. `consume` is one DeleteItem with a condition and ALL_OLD: of any
 * number of concurrent callbacks with the same state, exactly one gets the record.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { ConnectFlowState, ConnectFlowStateStore } from '../../core/lifecycle/store.js';
import { isExpired } from './connection-codec.js';
import { documentClient } from './connection-store.js';
import { connectStateKey, ITEM_KINDS, TABLE } from './schema.js';
import { isConditionFailed } from './update-expression.js';

export class DynamoConnectStateStore implements ConnectFlowStateStore {
  readonly #doc: DynamoDBDocumentClient;
  readonly #table: string;
  readonly #nowMs: () => number;

  constructor(options: { tableName: string; client?: DynamoDBClient; nowMs?: () => number }) {
    this.#doc = documentClient(options.client);
    this.#table = options.tableName;
    this.#nowMs = options.nowMs ?? Date.now;
  }

  async put(state: string, record: ConnectFlowState, expiresAt: number): Promise<void> {
    await this.#doc.send(
      new PutCommand({
        TableName: this.#table,
        Item: {
          ...connectStateKey(state),
          kind: ITEM_KINDS.connectState,
          record,
          [TABLE.ttlAttribute]: expiresAt,
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  async consume(state: string): Promise<ConnectFlowState | undefined> {
    try {
      const { Attributes } = await this.#doc.send(
        new DeleteCommand({
          TableName: this.#table,
          Key: connectStateKey(state),
          ConditionExpression: 'attribute_exists(pk)',
          ReturnValues: 'ALL_OLD',
        }),
      );
      // An expired record is absent, even if DynamoDB had not deleted it yet (now it is gone too).
      if (!Attributes || isExpired(Attributes, Math.floor(this.#nowMs() / 1000))) return undefined;
      return Attributes.record as ConnectFlowState;
    } catch (error) {
      if (isConditionFailed(error)) return undefined;
      throw error;
    }
  }
}
