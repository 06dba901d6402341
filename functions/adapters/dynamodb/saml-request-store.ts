/**
 * Outstanding SAML AuthnRequest IDs (SP-initiated sign-in): one item per request, keyed by a hash of the ID,
 * with the integration that sent it and the frontend's return URL. `consume` is one conditional UpdateItem
 * (exists, unused, this integration, not past its TTL) that marks it used and returns it: of concurrent
 * consumers exactly one succeeds, and an expired item that DynamoDB has not deleted yet never counts. The used
 * item stays until its TTL deletes it.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { SamlRequestRecord, SamlRequestStore } from '../../core/saml/requests.js';
import { documentClient } from './connection-store.js';
import { ITEM_KINDS, samlRequestKey, TABLE } from './schema.js';
import { isConditionFailed } from './update-expression.js';

export class DynamoSamlRequestStore implements SamlRequestStore {
  readonly #doc: DynamoDBDocumentClient;
  readonly #table: string;

  constructor(options: { tableName: string; client?: DynamoDBClient }) {
    this.#doc = documentClient(options.client);
    this.#table = options.tableName;
  }

  async put(requestId: string, record: SamlRequestRecord, expiresAt: number): Promise<void> {
    await this.#doc.send(
      new PutCommand({
        TableName: this.#table,
        Item: {
          ...samlRequestKey(requestId),
          kind: ITEM_KINDS.samlRequest,
          integration: record.integration,
          ...(record.returnTo === undefined ? {} : { returnTo: record.returnTo }),
          createdAt: record.createdAt,
          [TABLE.ttlAttribute]: expiresAt,
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  async consume(requestId: string, integration: string, now: number): Promise<SamlRequestRecord | undefined> {
    try {
      const { Attributes } = await this.#doc.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: samlRequestKey(requestId),
          UpdateExpression: 'SET #usedAt = :now',
          ConditionExpression:
            'attribute_exists(pk) AND attribute_not_exists(#usedAt) AND #integration = :integration AND #ttl > :now',
          ExpressionAttributeNames: {
            '#usedAt': 'usedAt',
            '#integration': 'integration',
            '#ttl': TABLE.ttlAttribute,
          },
          ExpressionAttributeValues: { ':now': now, ':integration': integration },
          ReturnValues: 'ALL_NEW',
        }),
      );
      if (!Attributes) return undefined;
      const returnTo = Attributes.returnTo;
      return {
        integration: String(Attributes.integration),
        ...(typeof returnTo === 'string' ? { returnTo } : {}),
        createdAt: Number(Attributes.createdAt),
      };
    } catch (error) {
      if (isConditionFailed(error)) return undefined;
      throw error;
    }
  }
}
