/**
 * The CLI's AWS commands against moto_server (Secrets Manager, DynamoDB, KMS, EventBridge) with the real SDK
 * clients: `config check` (and its secret checks), `secrets set` (stdin and prompt; values never in the output),
 * `connections list | inspect | disconnect` (never a token), `authorize-url`.
 */

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateEventBusCommand, EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import {
  CreateSecretCommand,
  GetSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { createKmsCipher } from '../../functions/adapters/crypto/index.js';
import { DynamoConnectionStore, documentClient } from '../../functions/adapters/dynamodb/connection-store.js';
import { connectionKey } from '../../functions/adapters/dynamodb/schema.js';
import { ensureTable } from '../../functions/adapters/dynamodb/table-definition.js';
import { type Moto, startMoto } from '../support/moto.js';
import { run } from './support/run.js';

let moto: Moto;
let dir: string;
let env: Record<string, string>;
let savedEnv: NodeJS.ProcessEnv;
const TABLE = 'tokenvend-test-connections';
const CANARY = {
  secret: 'cli-canary-client-secret-0f3a',
  assertion: 'cli-canary-jwt-assertion-77c1',
  access: 'cli-canary-access-token-51de',
  refresh: 'cli-canary-refresh-token-9b20',
};
const ALICE = 'user:https%3A%2F%2Fidp.test.example:alice';
const BOB = 'user:https%3A%2F%2Fidp.test.example:bob';
let keyArn: string;

const config = {
  publicBaseUrl: 'https://tokens.test.example',
  integrations: {
    'genesys-eu': {
      provider: 'genesys-cloud',
      vars: { region: 'mypurecloud.ie' },
      serviceConnections: { reporting: { grant: 'client_credentials' } },
    },
    ring: { provider: 'ringcentral', serviceConnections: { bot: { grant: 'jwt_bearer' } } },
    dial: { provider: 'dialpad', secretId: 'custom/dialpad' },
  },
  returnUrls: ['https://app.test.example/'],
};

const cli = (argv: string[], options: Parameters<typeof run>[1] = {}) =>
  run(argv, { cwd: dir, env, ...options });
const noCanary = (text: string) => {
  for (const value of Object.values(CANARY)) expect(text).not.toContain(value);
};

beforeAll(async () => {
  moto = await startMoto();
  savedEnv = { ...process.env };
  // The SDK's default credential chain reads the process environment.
  process.env.AWS_ACCESS_KEY_ID = 'testing';
  process.env.AWS_SECRET_ACCESS_KEY = 'testing';
  process.env.AWS_EC2_METADATA_DISABLED = 'true';
  delete process.env.AWS_PROFILE;
  delete process.env.AWS_SESSION_TOKEN;
  env = { AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL: moto.endpoint };
  dir = mkdtempSync(join(tmpdir(), 'tokenvend-cli-aws-'));
  mkdirSync(join(dir, 'config'));
  writeFileSync(join(dir, 'config', 'test.json'), JSON.stringify(config));
  const { publicBaseUrl: _, ...noBase } = config;
  writeFileSync(join(dir, 'config', 'nobase.json'), JSON.stringify(noBase));
  writeFileSync(
    join(dir, 'config', 'broken.json'),
    JSON.stringify({
      ...config,
      integrations: { x: { provider: 'genesys-cloud', vars: { region: 'example.com' } } },
    }),
  );
}, 30_000);

afterAll(async () => {
  process.env = savedEnv;
  await moto?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('config check', () => {
  test('--offline: the config is checked as cdk synth checks it, secrets are not', async () => {
    const r = await cli(['config', 'check', '--env', 'test', '--offline']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^test\.json: valid \(3 integrations\)$/m);
    expect(r.out).toMatch(
      /^genesys-eu +genesys-cloud +authorization_code, client_credentials +tokenvend\/test\/genesys-eu$/m,
    );
    expect(r.out).toMatch(/^dial +dialpad +authorization_code +custom\/dialpad$/m);
    expect(r.err).toBe('secrets not checked (--offline)');
  });

  test('a broken config: file, JSON path and problem, exit 1', async () => {
    const r = await cli(['config', 'check', '--env', 'broken', '--offline']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^tokenvend: broken\.json: \$\.integrations\.x.*region/);
    const missing = await cli(['config', 'check', '--env', 'nope', '--offline']);
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(
      /config\/nope\.json does not exist\n {2}run in the repository root, or name the file with --config <file>/,
    );
  });

  test('with AWS credentials: every secret missing is reported with the command that fixes it', async () => {
    const r = await cli(['config', 'check', '--env', 'test', '--aws', '--json']);
    expect(r.code).toBe(1);
    const report = r.json() as {
      integrations: { id: string; secret: { status: string; problems: string[] } }[];
    };
    expect(report.integrations.map((i) => [i.id, i.secret.status])).toEqual([
      ['genesys-eu', 'missing'],
      ['ring', 'missing'],
      ['dial', 'missing'],
    ]);
    expect(report.integrations[0]?.secret.problems[0]).toBe(
      'secret tokenvend/test/genesys-eu does not exist: tokenvend secrets set genesys-eu --env test',
    );
  });

  test('no AWS at hand with --aws: exit 3 and what to check', async () => {
    const r = await cli(['config', 'check', '--env', 'test', '--aws'], {
      env: { AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL: 'http://127.0.0.1:9' },
    });
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/cannot read secret tokenvend\/test\/genesys-eu/);
  });
});

describe('secrets set', () => {
  test('from stdin: created, then a new version; the output names fields, never values', async () => {
    const stdin = JSON.stringify({ client_id: 'genesys-client', client_secret: CANARY.secret });
    const created = await cli(['secrets', 'set', 'genesys-eu', '--env', 'test'], { stdin });
    expect(created.code).toBe(0);
    expect(created.out).toMatch(
      /^secret tokenvend\/test\/genesys-eu: created \(version .+; fields: client_id, client_secret\)$/,
    );
    const again = await cli(['secrets', 'set', 'genesys-eu', '--env', 'test', '--json'], { stdin });
    expect(again.json()).toMatchObject({
      secretId: 'tokenvend/test/genesys-eu',
      created: false,
      fields: ['client_id', 'client_secret'],
    });
    noCanary(created.out + created.err + again.out + again.err);
    const stored = await moto
      .client(SecretsManagerClient)
      .send(new GetSecretValueCommand({ SecretId: 'tokenvend/test/genesys-eu' }));
    expect(JSON.parse(stored.SecretString as string)).toEqual({
      client_id: 'genesys-client',
      client_secret: CANARY.secret,
    });
  });

  test('fields the grants need are checked before anything is written', async () => {
    const r = await cli(['secrets', 'set', 'ring', '--env', 'test'], {
      stdin: JSON.stringify({ client_id: 'ring-client', client_secret: CANARY.secret }),
    });
    expect(r.code).toBe(1);
    expect(r.err).toBe(
      'tokenvend: not written: missing field jwt_assertion (service connection bot (jwt_bearer))',
    );
    await expect(
      moto.client(SecretsManagerClient).send(new GetSecretValueCommand({ SecretId: 'tokenvend/test/ring' })),
    ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });

  test('--merge keeps the fields not given', async () => {
    const full = { client_id: 'ring-client', client_secret: 'first', jwt_assertion: CANARY.assertion };
    expect(
      (await cli(['secrets', 'set', 'ring', '--env', 'test'], { stdin: JSON.stringify(full) })).code,
    ).toBe(0);
    const merged = await cli(['secrets', 'set', 'ring', '--env', 'test', '--merge'], {
      stdin: JSON.stringify({ client_secret: CANARY.secret }),
    });
    expect(merged.code).toBe(0);
    noCanary(merged.out + merged.err);
    const stored = await moto
      .client(SecretsManagerClient)
      .send(new GetSecretValueCommand({ SecretId: 'tokenvend/test/ring' }));
    expect(JSON.parse(stored.SecretString as string)).toEqual({ ...full, client_secret: CANARY.secret });
  });

  test('on a terminal each field is asked for; secret fields are not echoed', async () => {
    const r = await cli(['secrets', 'set', 'dial', '--env', 'test'], {
      answers: ['dial-client', CANARY.secret],
    });
    expect(r.code).toBe(0);
    expect(r.prompts).toEqual([
      { question: 'client_id: ', hidden: false },
      { question: 'client_secret (optional, Enter to leave out) (not shown): ', hidden: true },
    ]);
    expect(r.out).toMatch(/^secret custom\/dialpad: created/);
    noCanary(r.out + r.err);
  });

  test('bad input: not JSON (the input is not repeated), nothing on stdin, an unknown integration', async () => {
    const notJson = await cli(['secrets', 'set', 'dial', '--env', 'test'], {
      stdin: `{"client_id": ${CANARY.secret}`,
    });
    expect(notJson.code).toBe(1);
    expect(notJson.err).toMatch(/^tokenvend: stdin is not a JSON object/);
    noCanary(notJson.out + notJson.err);
    const nothing = await cli(['secrets', 'set', 'dial', '--env', 'test'], { stdin: '' });
    expect(nothing.code).toBe(2);
    expect(nothing.err).toMatch(/no secret on stdin\n {2}pipe a JSON object/);
    const wrongType = await cli(['secrets', 'set', 'dial', '--env', 'test'], { stdin: '{"client_id": 42}' });
    expect(wrongType.code).toBe(1);
    expect(wrongType.err).toMatch(/client_id: expected string/);
    const unknown = await cli(['secrets', 'set', 'nope', '--env', 'test'], { stdin: '{}' });
    expect(unknown.code).toBe(1);
    expect(unknown.err).toMatch(
      /test\.json has no integration "nope"\n {2}integrations: genesys-eu, ring, dial/,
    );
  });

  test('config check now: every secret has what its grants need; a malformed one is named', async () => {
    const ok = await cli(['config', 'check', '--env', 'test']);
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/^ring +tokenvend\/test\/ring +ok \(client_id, client_secret, jwt_assertion\)$/m);
    noCanary(ok.out + ok.err);
    await moto.client(SecretsManagerClient).send(
      new CreateSecretCommand({
        Name: 'tokenvend/nobase/genesys-eu',
        SecretString: '{"client_secret": 7}',
      }),
    );
    const bad = await cli(['config', 'check', '--env', 'nobase', '--json']);
    expect(bad.code).toBe(1);
    const genesys = (bad.json() as { integrations: { id: string; secret: unknown }[] }).integrations.find(
      (i) => i.id === 'genesys-eu',
    );
    expect(genesys?.secret).toEqual({
      status: 'invalid',
      problems: [
        'secret tokenvend/nobase/genesys-eu: client_id: expected string; client_secret: expected string',
      ],
      notes: [],
    });
  });
});

describe('authorize-url', () => {
  test("the vendor login URL with the secret's client_id (never its secret), the callback as redirect_uri", async () => {
    const r = await cli(['authorize-url', 'genesys-eu', '--env', 'test']);
    expect(r.code).toBe(0);
    const url = new URL(r.out);
    expect(url.origin + url.pathname).toBe('https://login.mypurecloud.ie/oauth/authorize');
    expect(url.searchParams.get('client_id')).toBe('genesys-client');
    expect(url.searchParams.get('redirect_uri')).toBe(
      'https://tokens.test.example/oauth/genesys-eu/callback',
    );
    expect(url.searchParams.get('state')).toBeTruthy();
    expect(r.err).toMatch(/must be registered at the vendor/);
    noCanary(r.out + r.err);
  });

  test('--client-id needs no AWS; a config without publicBaseUrl needs --base-url', async () => {
    const r = await cli(['authorize-url', 'ring', '--env', 'test', '--client-id', 'abc', '--json'], {
      env: {},
    });
    expect(r.code).toBe(0);
    const answer = r.json() as { authorize_url: string; pkce: boolean };
    expect(new URL(answer.authorize_url).searchParams.get('code_challenge_method')).toBe('S256');
    expect(answer.pkce).toBe(true);
    const noBase = await cli(['authorize-url', 'dial', '--env', 'nobase', '--client-id', 'abc']);
    expect(noBase.code).toBe(2);
    expect(noBase.err).toMatch(/no publicBaseUrl\n {2}pass --base-url/);
  });
});

describe('connections', () => {
  beforeAll(async () => {
    const dynamo = moto.client(DynamoDBClient);
    await ensureTable(dynamo, TABLE, { ttl: true });
    const key = await moto.client(KMSClient).send(new CreateKeyCommand({}));
    keyArn = key.KeyMetadata?.Arn as string;
    const store = new DynamoConnectionStore({
      tableName: TABLE,
      client: dynamo,
      cipher: createKmsCipher({ keyId: keyArn, kms: moto.client(KMSClient) }),
    });
    const now = Math.floor(Date.now() / 1000);
    for (const subject of [ALICE, BOB]) {
      await store.put({
        integration: 'dial',
        subject,
        grant: 'authorization_code',
        tokens: {
          accessToken: `${CANARY.access}-${subject}`,
          refreshToken: `${CANARY.refresh}-${subject}`,
          tokenType: 'Bearer',
          expiresAt: now + 3600,
          issuedAt: now,
          scopes: ['calls:list'],
        },
        now,
        refreshDueAt: now + 3300,
        expiresAt: now + 30 * 86_400,
      });
    }
    await documentClient(dynamo).send(
      new UpdateCommand({
        TableName: TABLE,
        Key: connectionKey('dial', BOB),
        UpdateExpression: 'SET #s = :s, #r = :r, #f = :f, #e = :e, #n = :n',
        ExpressionAttributeNames: {
          '#s': 'status',
          '#r': 'reason',
          '#f': 'failureCount',
          '#e': 'lastError',
          '#n': 'notBefore',
        },
        ExpressionAttributeValues: {
          ':s': 'needs_reauth',
          ':r': 'invalid_grant',
          ':f': 3,
          ':e': { code: 'invalid_grant', message: 'the vendor refused the refresh token', at: now - 60 },
          ':n': now + 120,
        },
      }),
    );
    await moto.client(EventBridgeClient).send(new CreateEventBusCommand({ Name: 'tokenvend-test' }));
  });

  test('list: a table of an integration or a subject, never a token', async () => {
    const all = await cli(['connections', 'list', 'dial', '--env', 'test', '--table', TABLE]);
    expect(all.code).toBe(0);
    expect(all.out.split('\n')[0]).toMatch(
      /^INTEGRATION +SUBJECT +STATUS +ACCESS EXPIRES +LAST REFRESH +FAILURES +LAST FAILURE$/,
    );
    expect(all.out).toMatch(
      new RegExp(
        `^dial +${ALICE.replace(/[.%:]/g, '\\$&')} +connected +\\d{4}-\\d\\d-\\d\\d .*\\(in 60m\\)`,
        'm',
      ),
    );
    expect(all.out).toMatch(/needs_reauth \(invalid_grant\) .* 3 +invalid_grant$/m);
    const one = await cli(['connections', 'list', '--subject', ALICE, '--env', 'test', '--json'], {
      env: { ...env, TOKENVEND_TABLE: TABLE },
    });
    const views = one.json() as Record<string, unknown>[];
    expect(views).toHaveLength(1);
    expect(views[0]).toMatchObject({
      integration: 'dial',
      subject: ALICE,
      status: 'connected',
      grant: 'authorization_code',
    });
    expect(Object.keys(views[0] as object)).not.toEqual(expect.arrayContaining(['accessToken']));
    noCanary(all.out + all.err + one.out);
    // Not even the ciphertexts are read: no token column is in the projection.
    expect(JSON.stringify(views)).not.toMatch(/"(accessToken|refreshToken|idToken)"/);
  });

  test('inspect: status, expiries, last refresh, the last failure and the back-off', async () => {
    const r = await cli(['connections', 'inspect', 'dial', BOB, '--env', 'test', '--table', TABLE]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^status: +needs_reauth \(invalid_grant\)$/m);
    expect(r.out).toMatch(
      /^last failure: +invalid_grant: the vendor refused the refresh token \(.* \(6\ds ago\)\)$/m,
    );
    expect(r.out).toMatch(/^failures in a row: +3$/m);
    expect(r.out).toMatch(/^no vendor call before: +.*\(in (2m|1\d\ds)\)$/m);
    expect(r.out).toMatch(/^access token expires: +.*\(in 60m\)$/m);
    noCanary(r.out);
    const missing = await cli([
      'connections',
      'inspect',
      'dial',
      'user:x:nobody',
      '--env',
      'test',
      '--table',
      TABLE,
    ]);
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/no connection of user:x:nobody to dial\n {2}subjects are as stored/);
  });

  test('the table must be named; its hint says where to find it', async () => {
    const r = await cli(['connections', 'list', 'dial', '--env', 'test']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--table <name>.*\n.*describe-stacks --stack-name tokenvend-test/);
  });

  test('disconnect: asks unless --yes, then deletes through the API flow (and publishes the event)', async () => {
    const base = ['connections', 'disconnect', 'dial', ALICE, '--env', 'test', '--table', TABLE];
    const noKey = await cli(base);
    expect(noKey.code).toBe(2);
    expect(noKey.err).toMatch(/--key-arn/);
    const piped = await cli([...base, '--key-arn', keyArn]);
    expect(piped.code).toBe(2);
    expect(piped.err).toMatch(/add --yes/);
    const declined = await cli([...base, '--key-arn', keyArn], { answers: ['n'] });
    expect(declined.code).toBe(1);
    expect(
      (await cli(['connections', 'inspect', 'dial', ALICE, '--env', 'test', '--table', TABLE])).code,
    ).toBe(0);
    const done = await cli([
      ...base,
      '--key-arn',
      keyArn,
      '--event-bus',
      'tokenvend-test',
      '--yes',
      '--json',
    ]);
    expect(done.code).toBe(0);
    expect(done.json()).toEqual({ integration: 'dial', subject: ALICE, disconnected: true, event: true });
    expect(
      (await cli(['connections', 'inspect', 'dial', ALICE, '--env', 'test', '--table', TABLE])).code,
    ).toBe(1);
    const again = await cli([...base, '--key-arn', keyArn, '--yes']);
    expect(again.code).toBe(1);
    noCanary(done.out + done.err + again.err);
  });
});
