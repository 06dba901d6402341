/**
 * Single-use connect-flow state records. `consume` is one DeleteItem with a condition and ALL_OLD: of any
 * number of concurrent callbacks with the same state, exactly one gets the record.
 *
 * Outstanding states are capped per subject (`maxPerSubject`): one item per subject maps the hash of each of
 * its states to the state's expiry. `put` reads it, drops expired entries, refuses when the rest reach the cap,
 * and writes it back conditional on the version it read (optimistic concurrency, no transactions), so
 * concurrent starts of one subject never exceed the cap. `consume` removes the entry again (best effort: an
 * entry left behind stops counting when its state expires).
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { ConnectFlowState, ConnectFlowStateStore, ConnectStatePut } from '../../core/lifecycle/store.js';
import { isExpired } from './connection-codec.js';
import { documentClient } from './connection-store.js';
import { connectStateKey, connectStateSlot, connectStateSlotsKey, ITEM_KINDS, TABLE } from './schema.js';
import { isConditionFailed } from './update-expression.js';

/**
 * Concurrent starts of one subject retry the slot write this often; a start that keeps losing is refused like one
 * over the cap (the subject is starting flows faster than they can be recorded), with a second to wait.
 */
const SLOT_WRITE_ATTEMPTS = 10;

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class DynamoConnectStateStore implements ConnectFlowStateStore {
  readonly #doc: DynamoDBDocumentClient;
  readonly #table: string;
  readonly #nowMs: () => number;

  constructor(options: { tableName: string; client?: DynamoDBClient; nowMs?: () => number }) {
    this.#doc = documentClient(options.client);
    this.#table = options.tableName;
    this.#nowMs = options.nowMs ?? Date.now;
  }

  #now(): number {
    return Math.floor(this.#nowMs() / 1000);
  }

  async put(
    state: string,
    record: ConnectFlowState,
    expiresAt: number,
    options: { maxPerSubject?: number } = {},
  ): Promise<ConnectStatePut> {
    if (options.maxPerSubject !== undefined) {
      const reserved = await this.#reserveSlot(record.subject, state, expiresAt, options.maxPerSubject);
      if (!reserved.stored) return reserved;
    }
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
    return { stored: true };
  }

  /** Adds `state` to the subject's slots unless `max` unexpired ones are already there. */
  async #reserveSlot(
    subject: string,
    state: string,
    expiresAt: number,
    max: number,
  ): Promise<ConnectStatePut> {
    const key = connectStateSlotsKey(subject);
    for (let attempt = 1; ; attempt++) {
      const now = this.#now();
      const { Item } = await this.#doc.send(
        new GetCommand({ TableName: this.#table, Key: key, ConsistentRead: true }),
      );
      const slots: Record<string, number> = {};
      const stored = (Item?.slots ?? {}) as Record<string, unknown>;
      for (const [name, expiry] of Object.entries(stored)) {
        if (typeof expiry === 'number' && expiry > now) slots[name] = expiry;
      }
      const live = Object.values(slots);
      if (live.length >= max) return { stored: false, freeAt: Math.min(...live) };
      slots[connectStateSlot(state)] = expiresAt;
      const version = typeof Item?.version === 'number' ? Item.version : undefined;
      try {
        await this.#doc.send(
          new PutCommand({
            TableName: this.#table,
            Item: {
              ...key,
              kind: ITEM_KINDS.connectStateSlots,
              slots,
              version: (version ?? 0) + 1,
              [TABLE.ttlAttribute]: Math.max(...Object.values(slots)),
            },
            ...(Item
              ? {
                  ConditionExpression: '#version = :read',
                  ExpressionAttributeNames: { '#version': 'version' },
                  ExpressionAttributeValues: { ':read': version ?? null },
                }
              : { ConditionExpression: 'attribute_not_exists(pk)' }),
          }),
        );
        return { stored: true };
      } catch (error) {
        if (!isConditionFailed(error)) throw error;
        if (attempt >= SLOT_WRITE_ATTEMPTS) return { stored: false, freeAt: now + 1 };
        // Another start of the same subject won the write: read again after a short full-jitter pause.
        await pause(Math.random() * 20 * attempt);
      }
    }
  }

  async consume(state: string): Promise<ConnectFlowState | undefined> {
    let attributes: Record<string, unknown> | undefined;
    try {
      const { Attributes } = await this.#doc.send(
        new DeleteCommand({
          TableName: this.#table,
          Key: connectStateKey(state),
          ConditionExpression: 'attribute_exists(pk)',
          ReturnValues: 'ALL_OLD',
        }),
      );
      attributes = Attributes;
    } catch (error) {
      if (isConditionFailed(error)) return undefined;
      throw error;
    }
    if (!attributes) return undefined;
    const record = attributes.record as ConnectFlowState;
    await this.#releaseSlot(record.subject, state);
    // An expired record is absent, even if DynamoDB had not deleted it yet (now it is gone too).
    if (isExpired(attributes, this.#now())) return undefined;
    return record;
  }

  /** Best effort: a slot left behind only counts until its state's expiry. */
  async #releaseSlot(subject: string | undefined, state: string): Promise<void> {
    if (typeof subject !== 'string') return;
    try {
      await this.#doc.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: connectStateSlotsKey(subject),
          UpdateExpression: 'REMOVE #slots.#slot SET #version = #version + :one',
          ConditionExpression: 'attribute_exists(#slots.#slot)',
          ExpressionAttributeNames: {
            '#slots': 'slots',
            '#slot': connectStateSlot(state),
            '#version': 'version',
          },
          ExpressionAttributeValues: { ':one': 1 },
        }),
      );
    } catch {
      // Not there (never capped, or already gone), or the table is unavailable: the slot expires on its own.
    }
  }
}
