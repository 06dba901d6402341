/**
 * Parked connections: the tokens of a finished browser flow, until the subject that started the flow claims
 * them (single use, minutes). The key is a hash of the claim code (a table dump cannot claim anything); the
 * token set is one ciphertext under the encryption context {integration, starting subject, `parked_tokens`},
 * so it cannot be copied into a connection row (whose contexts name the token kinds) and decrypt there.
 * `consume` is one DeleteItem with a condition and ALL_OLD: of any number of concurrent claims exactly one
 * gets the record.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { ParkedClaim, ParkedConnection, ParkedConnectionStore } from '../../core/lifecycle/store.js';
import type { EncryptionContext, TokenCipher } from '../../core/ports.js';
import type { TokenSet } from '../../core/token-set.js';
import { isExpired } from './connection-codec.js';
import { documentClient } from './connection-store.js';
import { ITEM_KINDS, parkedConnectionKey, TABLE } from './schema.js';
import { isConditionFailed } from './update-expression.js';

/** A parked token set's encryption context: its own `kind`, so it never decrypts as a connection's token. */
function context(integration: string, subject: string): EncryptionContext {
  return { integration, subject, kind: 'parked_tokens' };
}

export class DynamoParkedConnectionStore implements ParkedConnectionStore {
  readonly #doc: DynamoDBDocumentClient;
  readonly #table: string;
  readonly #cipher: TokenCipher;

  constructor(options: { tableName: string; cipher: TokenCipher; client?: DynamoDBClient }) {
    this.#doc = documentClient(options.client);
    this.#table = options.tableName;
    this.#cipher = options.cipher;
  }

  async park(claimCode: string, parked: ParkedConnection, expiresAt: number): Promise<void> {
    const sealed = await this.#cipher.encrypt(
      JSON.stringify(parked.tokens),
      context(parked.integration, parked.subject),
    );
    await this.#doc.send(
      new PutCommand({
        TableName: this.#table,
        Item: {
          ...parkedConnectionKey(claimCode),
          kind: ITEM_KINDS.parkedConnection,
          integration: parked.integration,
          subject: parked.subject,
          grant: parked.grant,
          tokens: sealed,
          createdAt: parked.createdAt,
          [TABLE.ttlAttribute]: expiresAt,
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  async consume(claimCode: string, integration: string, now: number): Promise<ParkedClaim | undefined> {
    let item: Record<string, unknown> | undefined;
    try {
      const { Attributes } = await this.#doc.send(
        new DeleteCommand({
          TableName: this.#table,
          Key: parkedConnectionKey(claimCode),
          // A code presented at another integration's claim route stays where it is.
          ConditionExpression: 'attribute_exists(pk) AND #integration = :integration',
          ExpressionAttributeNames: { '#integration': 'integration' },
          ExpressionAttributeValues: { ':integration': integration },
          ReturnValues: 'ALL_OLD',
        }),
      );
      item = Attributes;
    } catch (error) {
      if (isConditionFailed(error)) return undefined;
      throw error;
    }
    if (!item) return undefined;
    const subject = String(item.subject);
    const tokens = JSON.parse(
      await this.#cipher.decrypt(String(item.tokens), context(integration, subject)),
    ) as TokenSet;
    return {
      parked: {
        integration,
        subject,
        grant: String(item.grant),
        tokens,
        createdAt: Number(item.createdAt),
      },
      expired: isExpired(item, now),
    };
  }
}
