/**
 * The connection store on DynamoDB: single-item reads and conditional UpdateItems only (no transactions,
 * no Scan), so it runs the same on DynamoDB, DynamoDB Local and dynalite. docs/data-model.md has the layout.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { VersionConflictError } from '../../core/lifecycle/errors.js';
import type {
  Connection,
  ConnectionKey,
  ConnectionStore,
  DueConnection,
  NewConnection,
  SecretsToRead,
} from '../../core/lifecycle/store.js';
import type { TokenCipher } from '../../core/ports.js';
import { decodeConnection, encryptTokens, type Item, isExpired } from './connection-codec.js';
import {
  CONNECTION_ATTRIBUTES as A,
  bucketStart,
  CONNECTION_SORT_PREFIX,
  connectionKey,
  dueBucketOf,
  dueBucketValue,
  ITEM_KINDS,
  REFRESH_DUE_INDEX,
  subjectPartition,
} from './schema.js';
import { ExpressionBuilder, isConditionFailed, raw } from './update-expression.js';

export interface DynamoStoreOptions {
  tableName: string;
  cipher: TokenCipher;
  /** One client per container; a default client uses the Lambda's region and credentials. */
  client?: DynamoDBClient;
  /** Epoch milliseconds; injected so tests control time. */
  nowMs?: () => number;
}

/** A document client that drops undefined attributes (optional TokenSet fields) instead of failing. */
export function documentClient(client: DynamoDBClient = new DynamoDBClient({})): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

const USABLE = ['connected', 'refreshing'] as const;

export class DynamoConnectionStore implements ConnectionStore {
  readonly #doc: DynamoDBDocumentClient;
  readonly #table: string;
  readonly #cipher: TokenCipher;
  readonly #nowMs: () => number;

  constructor(options: DynamoStoreOptions) {
    this.#doc = documentClient(options.client);
    this.#table = options.tableName;
    this.#cipher = options.cipher;
    this.#nowMs = options.nowMs ?? Date.now;
  }

  #now(): number {
    return Math.floor(this.#nowMs() / 1000);
  }

  async get(
    key: ConnectionKey,
    options: { consistent?: boolean; secrets?: SecretsToRead } = {},
  ): Promise<Connection | undefined> {
    const { Item } = await this.#doc.send(
      new GetCommand({
        TableName: this.#table,
        Key: connectionKey(key.integration, key.subject),
        ConsistentRead: options.consistent ?? false,
      }),
    );
    if (!Item || isExpired(Item, this.#now())) return undefined;
    return decodeConnection(this.#cipher, Item, options.secrets ?? 'access', this.#nowMs());
  }

  async put(connection: NewConnection): Promise<Connection> {
    const { integration, subject, now } = connection;
    const e = new ExpressionBuilder();
    const sealed = await encryptTokens(this.#cipher, integration, subject, connection.tokens);
    const expression = e.update(
      {
        [A.kind]: ITEM_KINDS.connection,
        [A.integration]: integration,
        [A.subject]: subject,
        [A.status]: 'connected',
        [A.grant]: connection.grant,
        ...sealed,
        [A.version]: raw(`if_not_exists(${e.name(A.version)}, ${e.value(0)}) + ${e.value(1)}`),
        [A.createdAt]: now,
        [A.updatedAt]: now,
        [A.failureCount]: 0,
        [A.lastVendedAt]: connection.lastVendedAt,
        ...this.#schedule(integration, subject, connection.refreshDueAt),
        [A.ttl]: connection.expiresAt,
      },
      [A.reason, A.lastError, A.leaseOwner, A.leaseExpiresAtMs, A.lastRefreshedAt, A.notBefore],
    );
    const written = (await this.#update({ integration, subject }, e, expression, undefined, true)) as Item;
    return decodeConnection(this.#cipher, written, 'all', this.#nowMs());
  }

  async acquireLease(
    key: ConnectionKey,
    lease: { version: number; owner: string; expiresAtMs: number; nowMs: number },
  ): Promise<Connection | undefined> {
    const e = new ExpressionBuilder();
    const expression = e.update({
      [A.leaseOwner]: lease.owner,
      [A.leaseExpiresAtMs]: lease.expiresAtMs,
      [A.status]: 'refreshing',
    });
    const condition = [
      `${e.name(A.version)} = ${e.value(lease.version)}`,
      `(attribute_not_exists(${e.name(A.leaseOwner)}) OR ${e.name(A.leaseExpiresAtMs)} <= ${e.value(lease.nowMs)})`,
      // A caller that read before someone else's failed refresh must not call the vendor during the backoff.
      `(attribute_not_exists(${e.name(A.notBefore)}) OR ${e.name(A.notBefore)} <= ${e.value(Math.floor(lease.nowMs / 1000))})`,
      this.#usable(e),
      this.#live(e),
    ].join(' AND ');
    const leased = await this.#update(key, e, expression, condition, true);
    return leased && decodeConnection(this.#cipher, leased, 'all', this.#nowMs());
  }

  async commitRefresh(
    key: ConnectionKey,
    update: Parameters<ConnectionStore['commitRefresh']>[1],
  ): Promise<Connection> {
    const { integration, subject } = key;
    const e = new ExpressionBuilder();
    const sealed = await encryptTokens(this.#cipher, integration, subject, update.tokens);
    const expression = e.update(
      {
        ...sealed,
        [A.version]: update.version + 1,
        [A.status]: 'connected',
        [A.updatedAt]: update.now,
        [A.lastRefreshedAt]: update.now,
        [A.failureCount]: 0,
        [A.lastVendedAt]: update.lastVendedAt,
        ...this.#schedule(integration, subject, update.refreshDueAt),
        [A.ttl]: update.expiresAt,
      },
      [A.leaseOwner, A.leaseExpiresAtMs, A.lastError, A.reason, A.notBefore],
    );
    const condition = [
      `${e.name(A.version)} = ${e.value(update.version)}`,
      this.#usable(e),
      ...(update.force ? [] : [`${e.name(A.leaseOwner)} = ${e.value(update.owner)}`]),
    ].join(' AND ');
    const committed = await this.#update(key, e, expression, condition, true);
    if (!committed) throw new VersionConflictError(integration);
    return decodeConnection(this.#cipher, committed, 'access', this.#nowMs());
  }

  async releaseLease(
    key: ConnectionKey,
    release: Parameters<ConnectionStore['releaseLease']>[1],
  ): Promise<void> {
    const e = new ExpressionBuilder();
    const fields: Record<string, unknown> = { [A.status]: 'connected' };
    if (release.failure) {
      fields[A.lastError] = release.failure;
      fields[A.failureCount] = raw(`if_not_exists(${e.name(A.failureCount)}, ${e.value(0)}) + ${e.value(1)}`);
    }
    if (release.notBefore !== undefined) fields[A.notBefore] = release.notBefore;
    if (release.refreshDueAt !== undefined) {
      Object.assign(fields, this.#schedule(key.integration, key.subject, release.refreshDueAt));
    }
    const expression = e.update(fields, [A.leaseOwner, A.leaseExpiresAtMs]);
    // A failed condition means the lease is not ours any more (it expired and was taken): nothing to release.
    await this.#update(
      key,
      e,
      expression,
      `${e.name(A.leaseOwner)} = ${e.value(release.owner)} AND ${this.#usable(e)}`,
    );
  }

  async markUnusable(
    key: ConnectionKey,
    mark: Parameters<ConnectionStore['markUnusable']>[1],
  ): Promise<void> {
    const e = new ExpressionBuilder();
    const fields: Record<string, unknown> = {
      [A.status]: mark.status,
      [A.reason]: mark.reason,
      [A.updatedAt]: this.#now(),
    };
    if (mark.failure) {
      fields[A.lastError] = mark.failure;
      fields[A.failureCount] = raw(`if_not_exists(${e.name(A.failureCount)}, ${e.value(0)}) + ${e.value(1)}`);
    }
    if (mark.expiresAt !== undefined) fields[A.ttl] = mark.expiresAt;
    const expression = e.update(fields, [A.leaseOwner, A.leaseExpiresAtMs, A.dueBucket, A.refreshDueAt]);
    const marked = await this.#update(key, e, expression, `${e.name(A.version)} = ${e.value(mark.version)}`);
    if (!marked) throw new VersionConflictError(key.integration);
  }

  async touch(key: ConnectionKey, touch: Parameters<ConnectionStore['touch']>[1]): Promise<boolean> {
    const e = new ExpressionBuilder();
    const expression = e.update({
      [A.lastVendedAt]: touch.lastVendedAt,
      ...this.#schedule(key.integration, key.subject, touch.refreshDueAt),
    });
    const touched = await this.#update(
      key,
      e,
      expression,
      `${e.name(A.version)} = ${e.value(touch.version)} AND ${this.#usable(e)}`,
    );
    return touched !== undefined;
  }

  /**
   * One UpdateItem on a connection item, conditional when `condition` is given. Returns the new item with
   * `returnNew` (an empty object otherwise), or undefined when the condition failed: what that means is the
   * caller's call (lost race, moved version, someone else's lease).
   */
  async #update(
    key: ConnectionKey,
    e: ExpressionBuilder,
    expression: string,
    condition: string | undefined,
    returnNew = false,
  ): Promise<Item | undefined> {
    try {
      const { Attributes } = await this.#doc.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: connectionKey(key.integration, key.subject),
          UpdateExpression: expression,
          ...(condition ? { ConditionExpression: condition } : {}),
          ...e.params(),
          ...(returnNew ? { ReturnValues: 'ALL_NEW' as const } : {}),
        }),
      );
      return (Attributes as Item | undefined) ?? {};
    } catch (error) {
      if (condition && isConditionFailed(error)) return undefined;
      throw error;
    }
  }

  async delete(key: ConnectionKey, options: { version?: number } = {}): Promise<boolean> {
    const e = new ExpressionBuilder();
    const condition =
      options.version === undefined ? undefined : `${e.name(A.version)} = ${e.value(options.version)}`;
    try {
      const { Attributes } = await this.#doc.send(
        new DeleteCommand({
          TableName: this.#table,
          Key: connectionKey(key.integration, key.subject),
          ...(condition ? { ConditionExpression: condition } : {}),
          ...e.params(),
          ReturnValues: 'ALL_OLD',
        }),
      );
      return Attributes !== undefined && !isExpired(Attributes, this.#now());
    } catch (error) {
      if (isConditionFailed(error)) return false;
      throw error;
    }
  }

  async listBySubject(subject: string): Promise<Connection[]> {
    const items: Item[] = [];
    let cursor: Record<string, unknown> | undefined;
    do {
      const page = await this.#doc.send(
        new QueryCommand({
          TableName: this.#table,
          KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
          ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk' },
          ExpressionAttributeValues: { ':pk': subjectPartition(subject), ':prefix': CONNECTION_SORT_PREFIX },
          ExclusiveStartKey: cursor,
        }),
      );
      items.push(...(page.Items ?? []));
      cursor = page.LastEvaluatedKey;
    } while (cursor);
    const now = this.#now();
    return Promise.all(
      items
        .filter((item) => !isExpired(item, now))
        .map((item) => decodeConnection(this.#cipher, item, 'access', this.#nowMs())),
    );
  }

  async queryDue(range: { from: number; to: number; now: number; limit?: number }): Promise<DueConnection[]> {
    const limit = range.limit ?? Number.POSITIVE_INFINITY;
    const due: DueConnection[] = [];
    for (
      let bucket = bucketStart(range.from);
      bucket <= range.to;
      bucket += REFRESH_DUE_INDEX.bucketSeconds
    ) {
      const shards = Array.from({ length: REFRESH_DUE_INDEX.shards }, (_, shard) =>
        this.#queryDueShard(dueBucketValue(bucket, shard), range, limit - due.length),
      );
      for (const items of await Promise.all(shards)) {
        for (const item of items) {
          if (due.length >= limit) return due;
          if (isExpired(item, range.now)) continue;
          due.push({
            integration: String(item[A.integration]),
            subject: String(item[A.subject]),
            version: Number(item[A.version]),
            refreshDueAt: Number(item[A.refreshDueAt]),
            lastVendedAt:
              typeof item[A.lastVendedAt] === 'number' ? (item[A.lastVendedAt] as number) : undefined,
          });
        }
      }
    }
    return due;
  }

  async #queryDueShard(
    dueBucket: string,
    range: { from: number; to: number },
    limit: number,
  ): Promise<Item[]> {
    const items: Item[] = [];
    let cursor: Record<string, unknown> | undefined;
    do {
      const page = await this.#doc.send(
        new QueryCommand({
          TableName: this.#table,
          IndexName: REFRESH_DUE_INDEX.name,
          KeyConditionExpression: '#b = :b AND #d BETWEEN :from AND :to',
          ExpressionAttributeNames: { '#b': A.dueBucket, '#d': A.refreshDueAt },
          ExpressionAttributeValues: { ':b': dueBucket, ':from': range.from, ':to': range.to },
          ExclusiveStartKey: cursor,
          ...(Number.isFinite(limit) ? { Limit: Math.max(1, limit) } : {}),
        }),
      );
      items.push(...(page.Items ?? []));
      cursor = items.length >= limit ? undefined : page.LastEvaluatedKey;
    } while (cursor);
    return items;
  }

  /** The refresh-due index attributes; both removed (the item leaves the sparse index) when not due. */
  #schedule(integration: string, subject: string, refreshDueAt: number | undefined): Item {
    return {
      [A.refreshDueAt]: refreshDueAt,
      [A.dueBucket]: refreshDueAt === undefined ? undefined : dueBucketOf(integration, subject, refreshDueAt),
    };
  }

  #usable(e: ExpressionBuilder): string {
    return `${e.name(A.status)} IN (${USABLE.map((s) => e.value(s)).join(', ')})`;
  }

  #live(e: ExpressionBuilder): string {
    return `(attribute_not_exists(${e.name(A.ttl)}) OR ${e.name(A.ttl)} > ${e.value(this.#now())})`;
  }
}
