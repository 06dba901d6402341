/** The one DynamoDB table: connections, connect-flow state and SAML replay records, with TTL and the refresh-due index. */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { REFRESH_DUE_INDEX, TABLE } from '../functions/adapters/dynamodb/schema.js';

export interface TokenTableProps {
  /** Keep the table when the stack is deleted (default true: it holds users' consents). */
  retain?: boolean;
}

export class TokenTable extends Construct {
  readonly table: dynamodb.TableV2;

  constructor(scope: Construct, id: string, props: TokenTableProps = {}) {
    super(scope, id);
    this.table = new dynamodb.TableV2(this, 'Table', {
      partitionKey: { name: TABLE.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: TABLE.sortKey, type: dynamodb.AttributeType.STRING },
      billing: dynamodb.Billing.onDemand(),
      timeToLiveAttribute: TABLE.ttlAttribute,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: props.retain ?? true,
      removalPolicy: (props.retain ?? true) ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      globalSecondaryIndexes: [
        {
          indexName: REFRESH_DUE_INDEX.name,
          partitionKey: { name: REFRESH_DUE_INDEX.partitionKey, type: dynamodb.AttributeType.STRING },
          sortKey: { name: REFRESH_DUE_INDEX.sortKey, type: dynamodb.AttributeType.NUMBER },
          projectionType: dynamodb.ProjectionType.INCLUDE,
          nonKeyAttributes: [...REFRESH_DUE_INDEX.projected],
        },
      ],
    });
  }
}
