/**
 * `tokenvend connections list | inspect | disconnect`, for administrators. Listing and inspecting read only the
 * columns that describe a connection (a projection without the token columns: not even ciphertexts are read);
 * disconnecting runs the API's own disconnect flow (revoke at the vendor where it can, then delete, then the
 * `connection.disconnected` event).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { KMSClient } from '@aws-sdk/client-kms';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetCommand, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { CallerAuthError } from '../functions/adapters/caller-auth/errors.js';
import type { CallerVerifier } from '../functions/adapters/caller-auth/verifier.js';
import { createKmsCipher } from '../functions/adapters/crypto/index.js';
import { documentClient } from '../functions/adapters/dynamodb/connection-store.js';
import {
  CONNECTION_ATTRIBUTES as A,
  CONNECTION_SORT_PREFIX,
  connectionKey,
  ITEM_KINDS,
  subjectPartition,
} from '../functions/adapters/dynamodb/schema.js';
import { EventBridgeEventSink } from '../functions/adapters/eventbridge/index.js';
import { SecretsManagerSecretSource } from '../functions/adapters/secrets/index.js';
import { TokenvendError } from '../functions/core/errors.js';
import { disconnect } from '../functions/core/flows/connections.js';
import { NotConnectedError } from '../functions/core/lifecycle/errors.js';
import { buildApp } from '../functions/handlers/runtime/build-app.js';
import type { Command } from './command.js';
import {
  awsFailure,
  awsOptions,
  awsSettings,
  clientConfig,
  type Environment,
  envOptions,
  loadEnvironment,
} from './environment.js';
import type { Io } from './io.js';
import { CliError, EXIT, fields, json, table, usageError, when } from './output.js';

/** What an administrator sees of a connection: status, expiries, refresh history, the last failure. Never a token. */
export interface ConnectionView {
  integration: string;
  subject: string;
  status: string;
  reason?: string | undefined;
  grant?: string | undefined;
  scopes?: string[] | undefined;
  connectedAt?: number | undefined;
  updatedAt?: number | undefined;
  accessTokenExpiresAt?: number | undefined;
  refreshTokenExpiresAt?: number | undefined;
  lastRefreshedAt?: number | undefined;
  lastVendedAt?: number | undefined;
  refreshDueAt?: number | undefined;
  /** When the item expires (DynamoDB TTL): its longest-lived credential's expiry. */
  expiresAt?: number | undefined;
  failureCount: number;
  notBefore?: number | undefined;
  lastFailure?: { code: string; message: string; at: number } | undefined;
  refreshLeaseUntilMs?: number | undefined;
  version?: number | undefined;
}

/** Every column a view reads: none of the token columns (accessToken, refreshToken, idToken). */
const VIEW_COLUMNS = [
  A.kind,
  A.integration,
  A.subject,
  A.version,
  A.status,
  A.reason,
  A.grant,
  A.accessExpiresAt,
  A.refreshExpiresAt,
  A.scopes,
  A.createdAt,
  A.updatedAt,
  A.lastRefreshedAt,
  A.lastVendedAt,
  A.refreshDueAt,
  A.failureCount,
  A.notBefore,
  A.lastError,
  A.leaseOwner,
  A.leaseExpiresAtMs,
  A.ttl,
];

function projection(): { ProjectionExpression: string; ExpressionAttributeNames: Record<string, string> } {
  const names: Record<string, string> = {};
  VIEW_COLUMNS.forEach((column, i) => {
    names[`#c${i}`] = column;
  });
  return { ProjectionExpression: Object.keys(names).join(', '), ExpressionAttributeNames: names };
}

const num = (v: unknown) => (typeof v === 'number' ? v : undefined);
const str = (v: unknown) => (typeof v === 'string' ? v : undefined);

function viewOf(item: Record<string, unknown>, nowMs: number): ConnectionView {
  const leaseUntil = num(item[A.leaseExpiresAtMs]);
  const leased = str(item[A.leaseOwner]) !== undefined && leaseUntil !== undefined && leaseUntil > nowMs;
  let status = str(item[A.status]) ?? 'connected';
  if (status === 'refreshing' && !leased) status = 'connected';
  const failure = item[A.lastError] as { code?: unknown; message?: unknown; at?: unknown } | undefined;
  const scopes = item[A.scopes];
  return {
    integration: String(item[A.integration]),
    subject: String(item[A.subject]),
    status,
    reason: str(item[A.reason]),
    grant: str(item[A.grant]),
    scopes: Array.isArray(scopes) ? scopes.filter((s): s is string => typeof s === 'string') : undefined,
    connectedAt: num(item[A.createdAt]),
    updatedAt: num(item[A.updatedAt]),
    accessTokenExpiresAt: num(item[A.accessExpiresAt]),
    refreshTokenExpiresAt: num(item[A.refreshExpiresAt]),
    lastRefreshedAt: num(item[A.lastRefreshedAt]),
    lastVendedAt: num(item[A.lastVendedAt]),
    refreshDueAt: num(item[A.refreshDueAt]),
    expiresAt: num(item[A.ttl]),
    failureCount: num(item[A.failureCount]) ?? 0,
    notBefore: num(item[A.notBefore]),
    lastFailure:
      failure && typeof failure === 'object'
        ? {
            code: String(failure.code ?? ''),
            message: String(failure.message ?? ''),
            at: num(failure.at) ?? 0,
          }
        : undefined,
    refreshLeaseUntilMs: leased ? leaseUntil : undefined,
    version: num(item[A.version]),
  };
}

/** Items past their TTL are treated as absent, as every read of the API does (DynamoDB deletes them lazily). */
const live = (item: Record<string, unknown>, nowMs: number) => {
  const ttl = num(item[A.ttl]);
  return item[A.kind] === ITEM_KINDS.connection && (ttl === undefined || ttl > nowMs / 1000);
};

const tableOptions = { table: { type: 'string' } } as const;

function tableName(
  io: Io,
  values: Record<string, string | boolean | undefined>,
  environment: Environment,
): string {
  const name = (values.table as string | undefined) ?? io.env.TOKENVEND_TABLE;
  if (!name) {
    throw usageError(
      'name the connections table: --table <name> (or TOKENVEND_TABLE)',
      `it is the TableName output of the stack: aws cloudformation describe-stacks --stack-name tokenvend-${environment.name} --query "Stacks[0].Outputs"`,
    );
  }
  return name;
}

async function withDynamo<T>(
  io: Io,
  values: Record<string, string | boolean | undefined>,
  environment: Environment,
  run: (doc: ReturnType<typeof documentClient>, table: string) => Promise<T>,
): Promise<T> {
  const table = tableName(io, values, environment);
  const client = new DynamoDBClient(clientConfig(awsSettings(io, values, environment)));
  try {
    return await run(documentClient(client), table);
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw awsFailure(`cannot read table ${table}`, error);
  } finally {
    client.destroy();
  }
}

function describe(view: ConnectionView, nowMs: number): string {
  const failure = view.lastFailure;
  return fields([
    ['integration', view.integration],
    ['subject', view.subject],
    ['status', `${view.status}${view.reason ? ` (${view.reason})` : ''}`],
    ['grant', view.grant],
    ['scopes', view.scopes?.join(' ')],
    ['connected', when(view.connectedAt, nowMs)],
    ['access token expires', when(view.accessTokenExpiresAt, nowMs)],
    ['refresh token expires', when(view.refreshTokenExpiresAt, nowMs)],
    ['last refresh', when(view.lastRefreshedAt, nowMs)],
    ['next refresh due', when(view.refreshDueAt, nowMs)],
    ['last vended', when(view.lastVendedAt, nowMs)],
    ['failures in a row', view.failureCount],
    [
      'last failure',
      failure ? `${failure.code}: ${failure.message} (${when(failure.at, nowMs)})` : undefined,
    ],
    ['no vendor call before', when(view.notBefore, nowMs)],
    [
      'refresh under way until',
      view.refreshLeaseUntilMs === undefined ? undefined : when(view.refreshLeaseUntilMs / 1000, nowMs),
    ],
    ['record expires', when(view.expiresAt, nowMs)],
    ['version', view.version],
  ]);
}

export const connectionsList: Command = {
  name: 'connections list',
  usage:
    'tokenvend connections list [<integration>] [--subject <subject>] --env <env> [--table <name>] [--limit <n>] [--json]',
  summary:
    'connections of an integration, or of one subject: status, expiries, last refresh, failures (never tokens)',
  help: [
    'Lists connections from the connections table (--table, or TOKENVEND_TABLE: the stack output TableName).',
    "With --subject: that subject's connections (one query), optionally of one integration. Without it: every",
    'connection of <integration>, found by a scan of the table (fine for an administrator now and then; --limit',
    'caps the rows, default 200). Subjects are as stored: user:<namespace>:<claim> or service:<name>.',
  ].join('\n'),
  options: {
    ...envOptions,
    ...awsOptions,
    ...tableOptions,
    subject: { type: 'string' },
    limit: { type: 'string' },
  },
  positionals: { min: 0, max: 1, names: '[<integration>]' },
  async run({ io, values, positionals, jsonOutput }) {
    const environment = loadEnvironment(io, values);
    const integration = positionals[0];
    if (integration !== undefined) environment.integration(integration);
    const subject = values.subject as string | undefined;
    if (integration === undefined && subject === undefined) {
      throw usageError('name an integration, a --subject, or both');
    }
    const limitText = (values.limit as string | undefined) ?? '200';
    if (!/^[1-9]\d{0,5}$/.test(limitText)) throw usageError(`--limit ${limitText}: a whole number from 1`);
    const limit = Number(limitText);
    const nowMs = io.now();
    const views = await withDynamo(io, values, environment, async (doc, table) => {
      const items: Record<string, unknown>[] = [];
      let cursor: Record<string, unknown> | undefined;
      const { ProjectionExpression, ExpressionAttributeNames } = projection();
      do {
        const page = subject
          ? await doc.send(
              new QueryCommand({
                TableName: table,
                KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
                ProjectionExpression,
                ExpressionAttributeNames: { ...ExpressionAttributeNames, '#pk': 'pk', '#sk': 'sk' },
                ExpressionAttributeValues: {
                  ':pk': subjectPartition(subject),
                  ':prefix': CONNECTION_SORT_PREFIX,
                },
                ExclusiveStartKey: cursor,
              }),
            )
          : await doc.send(
              new ScanCommand({
                TableName: table,
                FilterExpression: '#k = :kind AND #i = :integration',
                ProjectionExpression,
                ExpressionAttributeNames: { ...ExpressionAttributeNames, '#k': A.kind, '#i': A.integration },
                ExpressionAttributeValues: { ':kind': ITEM_KINDS.connection, ':integration': integration },
                ExclusiveStartKey: cursor,
              }),
            );
        items.push(...(page.Items ?? []));
        cursor = page.LastEvaluatedKey;
      } while (cursor && items.length < limit);
      return items
        .filter((item) => live(item, nowMs))
        .filter((item) => integration === undefined || item[A.integration] === integration)
        .slice(0, limit)
        .map((item) => viewOf(item, nowMs));
    });
    if (jsonOutput) {
      io.out(json(views));
      return EXIT.ok;
    }
    if (views.length === 0) {
      io.err('no connections');
      return EXIT.ok;
    }
    io.out(
      table(
        ['INTEGRATION', 'SUBJECT', 'STATUS', 'ACCESS EXPIRES', 'LAST REFRESH', 'FAILURES', 'LAST FAILURE'],
        views.map((v) => [
          v.integration,
          v.subject,
          `${v.status}${v.reason ? ` (${v.reason})` : ''}`,
          when(v.accessTokenExpiresAt, nowMs),
          when(v.lastRefreshedAt, nowMs),
          v.failureCount,
          v.lastFailure?.code,
        ]),
      ),
    );
    return EXIT.ok;
  },
};

async function getView(
  io: Io,
  values: Record<string, string | boolean | undefined>,
  environment: Environment,
  integration: string,
  subject: string,
): Promise<ConnectionView | undefined> {
  const nowMs = io.now();
  return withDynamo(io, values, environment, async (doc, table) => {
    const { Item } = await doc.send(
      new GetCommand({
        TableName: table,
        Key: connectionKey(integration, subject),
        ConsistentRead: true,
        ...projection(),
      }),
    );
    return Item && live(Item, nowMs) ? viewOf(Item, nowMs) : undefined;
  });
}

function notFound(integration: string, subject: string, env: string): CliError {
  return new CliError(
    `no connection of ${subject} to ${integration}`,
    EXIT.problem,
    `subjects are as stored (user:<namespace>:<claim>, service:<name>): tokenvend connections list ${integration} --env ${env}`,
  );
}

export const connectionsInspect: Command = {
  name: 'connections inspect',
  usage: 'tokenvend connections inspect <integration> <subject> --env <env> [--table <name>] [--json]',
  summary: 'one connection in detail: status, expiries, refresh schedule, the last failure (never tokens)',
  help: 'Shows one connection: status and reason, grant, scopes, when the tokens expire, the last refresh and the next one due, the last vend, failures and the last failure class, a back-off not-before time, a refresh under way. Exit code 1 when there is no such connection.',
  options: { ...envOptions, ...awsOptions, ...tableOptions },
  positionals: { min: 2, max: 2, names: '<integration> <subject>' },
  async run({ io, values, positionals, jsonOutput }) {
    const environment = loadEnvironment(io, values);
    const [integration, subject] = positionals as [string, string];
    environment.integration(integration);
    const view = await getView(io, values, environment, integration, subject);
    if (!view) throw notFound(integration, subject, environment.name);
    io.out(jsonOutput ? json(view) : describe(view, io.now()));
    return EXIT.ok;
  },
};

/** The disconnect flow needs no caller verification: an administrator runs it with AWS credentials. */
const noCallers: CallerVerifier = {
  verify: async () => Promise.reject(new CallerAuthError('untrusted_issuer')),
  hydrate: async () => undefined,
};

export const connectionsDisconnect: Command = {
  name: 'connections disconnect',
  usage:
    'tokenvend connections disconnect <integration> <subject> --env <env> --key-arn <arn> [--table <name>] [--event-bus <name>] [--yes] [--json]',
  summary: 'revokes a connection at the vendor (where it can) and deletes it',
  help: [
    "Runs the API's disconnect: revoke the tokens at the vendor where the provider has a revocation endpoint (three",
    'tries), then delete the connection and publish connection.disconnected (with --event-bus, or TOKENVEND_EVENT_BUS:',
    'the stack output EventBusName). Decrypting the tokens for the revocation needs the token key: --key-arn or',
    "TOKENVEND_KMS_KEY_ARN. The vendor's client secret is read from Secrets Manager. Asks for confirmation on a",
    'terminal; --yes skips the question (required when stdin is not a terminal). Nothing is deleted when the vendor',
    'cannot be reached (exit code 3).',
  ].join('\n'),
  options: {
    ...envOptions,
    ...awsOptions,
    ...tableOptions,
    'key-arn': { type: 'string' },
    'event-bus': { type: 'string' },
    yes: { type: 'boolean' },
  },
  positionals: { min: 2, max: 2, names: '<integration> <subject>' },
  async run({ io, values, positionals, jsonOutput }) {
    const environment = loadEnvironment(io, values);
    const [integration, subject] = positionals as [string, string];
    environment.integration(integration);
    const keyArn = (values['key-arn'] as string | undefined) ?? io.env.TOKENVEND_KMS_KEY_ARN;
    if (!keyArn) {
      throw usageError(
        'name the token key: --key-arn <arn> (or TOKENVEND_KMS_KEY_ARN)',
        'the KMS key the stack encrypts tokens with (its Lambdas have it as TOKENVEND_KMS_KEY_ARN)',
      );
    }
    const table = tableName(io, values, environment);
    const view = await getView(io, values, environment, integration, subject);
    if (!view) throw notFound(integration, subject, environment.name);
    if (!values.yes) {
      if (!io.stdinIsTty) throw usageError('not a terminal: add --yes to disconnect without being asked');
      const answer = await io.prompt(
        `disconnect ${subject} from ${integration} (revoke at the vendor, then delete)? [y/N] `,
        { hidden: false },
      );
      if (!/^y(es)?$/i.test(answer.trim())) {
        io.err('nothing changed');
        return EXIT.problem;
      }
    }
    const settings = awsSettings(io, values, environment);
    const config = clientConfig(settings);
    const dynamo = new DynamoDBClient(config);
    const kms = new KMSClient(config);
    const secretsClient = new SecretsManagerClient(config);
    const bus = (values['event-bus'] as string | undefined) ?? io.env.TOKENVEND_EVENT_BUS;
    const eventBridge = bus ? new EventBridgeClient(config) : undefined;
    const failures: string[] = [];
    try {
      const app = buildApp({
        deployment: environment.checked.deployment,
        dynamo: { client: dynamo, tableName: table },
        cipher: createKmsCipher({ keyId: keyArn, kms }),
        secrets: new SecretsManagerSecretSource({
          client: secretsClient,
          secretIds: (id) => environment.secretId(id),
        }),
        callers: noCallers,
        events:
          eventBridge && bus
            ? new EventBridgeEventSink({
                client: eventBridge,
                busName: bus,
                onError: (p) => failures.push(p.code),
              })
            : undefined,
        logger: { error: () => undefined, info: () => undefined },
      });
      await disconnect(app.flows, { integration, subject });
    } catch (error) {
      if (error instanceof NotConnectedError) throw notFound(integration, subject, environment.name);
      if (error instanceof TokenvendError) {
        // Our errors carry our own words only (never a token, a secret or a vendor's text): fine for an administrator.
        const vendorDown = error.status >= 502;
        throw new CliError(
          `not disconnected: ${error.error}: ${error.message}`,
          vendorDown ? EXIT.unavailable : EXIT.problem,
          vendorDown ? 'the vendor could not revoke; nothing was deleted: try again later' : undefined,
        );
      }
      throw awsFailure('not disconnected', error);
    } finally {
      dynamo.destroy();
      kms.destroy();
      secretsClient.destroy();
      eventBridge?.destroy();
    }
    const result = {
      integration,
      subject,
      disconnected: true,
      event: bus ? failures.length === 0 : undefined,
    };
    if (jsonOutput) io.out(json(result));
    else
      io.out(
        `disconnected ${subject} from ${integration}${bus && failures.length ? ' (the event could not be published)' : ''}`,
      );
    return EXIT.ok;
  },
};
