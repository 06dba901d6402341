/**
 * The table as the CDK stack creates it, for DynamoDB Local, dynalite (`npm start`) and tests. The stack
 * (lib/) builds the same shape from {@link TABLE} and {@link REFRESH_DUE_INDEX}.
 */
import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { REFRESH_DUE_INDEX, TABLE } from './schema.js';

export function createTableInput(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: TABLE.partitionKey, AttributeType: 'S' },
      { AttributeName: TABLE.sortKey, AttributeType: 'S' },
      { AttributeName: REFRESH_DUE_INDEX.partitionKey, AttributeType: 'S' },
      { AttributeName: REFRESH_DUE_INDEX.sortKey, AttributeType: 'N' },
    ],
    KeySchema: [
      { AttributeName: TABLE.partitionKey, KeyType: 'HASH' },
      { AttributeName: TABLE.sortKey, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: REFRESH_DUE_INDEX.name,
        KeySchema: [
          { AttributeName: REFRESH_DUE_INDEX.partitionKey, KeyType: 'HASH' },
          { AttributeName: REFRESH_DUE_INDEX.sortKey, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: [...REFRESH_DUE_INDEX.projected] },
      },
    ],
  };
}

/**
 * Creates the table (if missing) and waits until it is active; enables TTL unless the backend has none
 * (dynalite).
 */
export async function ensureTable(
  client: DynamoDBClient,
  tableName: string,
  options: { ttl?: boolean } = {},
): Promise<void> {
  try {
    await client.send(new CreateTableCommand(createTableInput(tableName)));
  } catch (e) {
    if (!(e instanceof ResourceInUseException)) throw e;
  }
  for (let i = 0; i < 100; i++) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    const indexesActive = (Table?.GlobalSecondaryIndexes ?? []).every((g) => g.IndexStatus === 'ACTIVE');
    if (Table?.TableStatus === 'ACTIVE' && indexesActive) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  if (options.ttl !== false) {
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { AttributeName: TABLE.ttlAttribute, Enabled: true },
      }),
    );
  }
}
