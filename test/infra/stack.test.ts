/**
 * CDK assertions on the per-environment stack: the data model's table (keys, TTL, refresh-due index), the KMS
 * key, one Node 24 Lambda per handler with only the permissions its spec names, every route of the contract,
 * the IAM authorizer on the service route, and a clean cdk-nag AwsSolutions report.
 */
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { REFRESH_DUE_INDEX, TABLE } from '../../functions/adapters/dynamodb/schema.js';
import { FUNCTIONS } from '../../functions/handlers/routes.js';
import { TokenvendStack } from '../../lib/tokenvend-stack.js';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

function synth(envName = 'test') {
  // Asset bundling (esbuild) is exercised by `cdk synth`; here it would only slow the assertions down.
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new TokenvendStack(app, `tokenvend-${envName}`, {
    envName,
    configFile: path.join(projectRoot, 'config', 'dev.json'),
    projectRoot,
    retainData: false,
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack, template: Template.fromStack(stack) };
}

describe('TokenvendStack', () => {
  const { template, app } = synth();

  it('has one table with pk/sk, TTL and the sharded refresh-due index', () => {
    template.resourceCountIs('AWS::DynamoDB::GlobalTable', 1);
    template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      KeySchema: [
        { AttributeName: TABLE.partitionKey, KeyType: 'HASH' },
        { AttributeName: TABLE.sortKey, KeyType: 'RANGE' },
      ],
      TimeToLiveSpecification: { AttributeName: TABLE.ttlAttribute, Enabled: true },
      GlobalSecondaryIndexes: [
        Match.objectLike({
          IndexName: REFRESH_DUE_INDEX.name,
          KeySchema: [
            { AttributeName: REFRESH_DUE_INDEX.partitionKey, KeyType: 'HASH' },
            { AttributeName: REFRESH_DUE_INDEX.sortKey, KeyType: 'RANGE' },
          ],
        }),
      ],
    });
  });

  it('has a rotating KMS key for envelope encryption', () => {
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });

  it('runs every handler on Node 24', () => {
    const functions = template.findResources('AWS::Lambda::Function', {
      Properties: { Runtime: 'nodejs24.x', Handler: 'index.handler' },
    });
    expect(Object.keys(functions)).toHaveLength(FUNCTIONS.length);
  });

  it('routes every path of the contract, the service route behind IAM', () => {
    const routes = template.findResources('AWS::ApiGatewayV2::Route');
    const keys = Object.values(routes).map(
      (r) => (r as { Properties: { RouteKey: string } }).Properties.RouteKey,
    );
    const expected = FUNCTIONS.flatMap((f) => f.routes.map((r) => `${r.method} ${r.path}`));
    expect(keys.sort()).toEqual(expected.sort());
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
      RouteKey: 'GET /service/vend/{integration}/{connection}',
      AuthorizationType: 'AWS_IAM',
    });
  });

  it('gives the health function no table, key or secret access', () => {
    const policies = template.findResources('AWS::IAM::Policy');
    const healthPolicy = Object.keys(policies).find((id) => id.startsWith('Health'));
    expect(healthPolicy).toBeUndefined();
  });

  it('lets only secret-reading functions read this environment’s secrets', () => {
    const policies = Object.values(template.findResources('AWS::IAM::Policy')).map((p) => JSON.stringify(p));
    const withSecrets = policies.filter((p) => p.includes('secretsmanager:GetSecretValue'));
    expect(withSecrets).toHaveLength(FUNCTIONS.filter((f) => f.secrets).length);
    for (const p of withSecrets) expect(p).toContain('secret:tokenvend/test/*');
  });

  it('passes the cdk-nag AwsSolutions checks', () => {
    const assembly = app.synth();
    const errors = assembly.stacks.flatMap((s) =>
      s.messages.filter((m) => m.level === 'error').map((m) => `${m.id}: ${String(m.entry.data)}`),
    );
    expect(errors).toEqual([]);
  });
});
