/**
 * The audit trail in AWS, against moto_server with real SDK clients: the Lambda's transport writes records into
 * the environment's audit log group (creating its stream once), and `tokenvend audit` runs the documented Logs
 * Insights query and shows one subject's records, never another's.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  DescribeLogStreamsCommand,
  GetLogEventsCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { auditQuery, parseSince } from '../../cli/audit.js';
import { CloudWatchAuditTransport } from '../../functions/adapters/audit/index.js';
import { AUDIT_FORMAT, type AuditRecord } from '../../functions/core/ports.js';
import { type Moto, startMoto } from '../support/moto.js';
import { run } from './support/run.js';

let moto: Moto;
let dir: string;
let logs: CloudWatchLogsClient;
let savedEnv: NodeJS.ProcessEnv;
const GROUP = '/tokenvend/test/audit';
const ALICE = 'user:local:alice';
const BOB = 'user:local:bob';

function record(action: AuditRecord['action'], subject: string, minutesAgo: number): AuditRecord {
  return {
    format: AUDIT_FORMAT,
    time: new Date(Date.now() - minutesAgo * 60_000).toISOString(),
    action,
    outcome: 'ok',
    integration: 'genesys-eu',
    subject,
    actor: subject,
    requestId: `req-${action}-${minutesAgo}`,
    sourceIp: '203.0.113.7',
  };
}

beforeAll(async () => {
  moto = await startMoto();
  savedEnv = { ...process.env };
  process.env.AWS_ACCESS_KEY_ID = 'testing';
  process.env.AWS_SECRET_ACCESS_KEY = 'testing';
  process.env.AWS_EC2_METADATA_DISABLED = 'true';
  delete process.env.AWS_PROFILE;
  dir = mkdtempSync(join(tmpdir(), 'tokenvend-cli-audit-'));
  mkdirSync(join(dir, 'config'));
  writeFileSync(
    join(dir, 'config', 'test.json'),
    JSON.stringify({
      publicBaseUrl: 'https://tokens.test.example',
      integrations: { 'genesys-eu': { provider: 'genesys-cloud', vars: { region: 'mypurecloud.ie' } } },
      returnUrls: ['https://app.test.example/'],
    }),
  );
  logs = moto.client(CloudWatchLogsClient);
  await logs.send(new CreateLogGroupCommand({ logGroupName: GROUP }));
});

afterAll(async () => {
  logs?.destroy();
  process.env = savedEnv;
  await moto?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('CloudWatchAuditTransport', () => {
  it('writes records as JSON lines into one stream of the audit group, creating the stream once', async () => {
    const problems: unknown[] = [];
    const transport = new CloudWatchAuditTransport({
      client: logs,
      logGroupName: GROUP,
      streamPrefix: 'tokenvend-test-vend',
      onError: (problem) => problems.push(problem),
    });
    await transport.send([record('vend', ALICE, 5), record('connect', ALICE, 10)]);
    await transport.send([record('vend', BOB, 1)]);
    expect(problems).toEqual([]);
    const streams =
      (await logs.send(new DescribeLogStreamsCommand({ logGroupName: GROUP }))).logStreams ?? [];
    expect(streams).toHaveLength(1);
    expect(streams[0]?.logStreamName).toMatch(/^\d{4}\/\d{2}\/\d{2}\/tokenvend-test-vend\/[0-9a-f-]{36}$/);
    const events = (
      await logs.send(
        new GetLogEventsCommand({
          logGroupName: GROUP,
          logStreamName: streams[0]?.logStreamName,
          startFromHead: true,
        }),
      )
    ).events;
    // In time order within a batch, whatever order they were written in.
    expect(events?.map((e) => (JSON.parse(e.message ?? '') as AuditRecord).action)).toEqual([
      'connect',
      'vend',
      'vend',
    ]);
  });

  it('never throws: a missing group is reported with its error name and the number of records lost', async () => {
    const problems: unknown[] = [];
    const transport = new CloudWatchAuditTransport({
      client: logs,
      logGroupName: '/tokenvend/nowhere/audit',
      streamPrefix: 'x',
      onError: (problem) => problems.push(problem),
    });
    await expect(transport.send([record('vend', ALICE, 0)])).resolves.toBeUndefined();
    expect(problems).toEqual([{ code: 'ResourceNotFoundException', records: 1 }]);
  });
});

describe('tokenvend audit', () => {
  const cli = (argv: string[]) =>
    run(argv, { cwd: dir, env: { AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL: moto.endpoint } });

  it("shows one subject's records, newest first, and never another subject's", async () => {
    const result = await cli(['audit', '--env', 'test', '--subject', ALICE, '--json']);
    expect(result.err).toBe('');
    expect(result.code).toBe(0);
    const { logGroup, records } = result.json() as { logGroup: string; records: AuditRecord[] };
    expect(logGroup).toBe(GROUP);
    expect(records.map((r) => [r.action, r.subject])).toEqual([
      ['vend', ALICE],
      ['connect', ALICE],
    ]);
    const text = await cli(['audit', '--env', 'test', '--subject', BOB]);
    expect(text.out).toContain('203.0.113.7');
    expect(text.out).not.toContain(ALICE);
  });

  it('answers usage errors for a missing subject, a subject that could break the query, and a bad --since', async () => {
    expect((await cli(['audit', '--env', 'test'])).code).toBe(2);
    const quoted = await cli(['audit', '--env', 'test', '--subject', 'x" or subject = "y']);
    expect(quoted.code).toBe(2);
    expect((await cli(['audit', '--env', 'test', '--subject', ALICE, '--since', 'yesterday'])).code).toBe(2);
    expect(
      (await cli(['audit', '--env', 'test', '--subject', ALICE, '--integration', 'nope'])).code,
    ).not.toBe(0);
  });

  it('builds the documented query', () => {
    expect(auditQuery(ALICE, { integration: 'genesys-eu', limit: 50 })).toBe(
      [
        'fields @timestamp, @message',
        `| filter format = "${AUDIT_FORMAT}" and (subject = "${ALICE}" or actor = "${ALICE}") and integration = "genesys-eu"`,
        '| sort @timestamp desc',
        '| limit 50',
      ].join('\n'),
    );
    const now = Date.parse('2026-12-02T12:00:00Z');
    expect(parseSince('90m', now)).toBe(now - 90 * 60_000);
    expect(parseSince('7d', now)).toBe(now - 7 * 86_400_000);
    expect(parseSince('2026-11-30T00:00:00Z', now)).toBe(Date.parse('2026-11-30T00:00:00Z'));
  });
});
