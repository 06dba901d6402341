/**
 * `tokenvend audit`: an environment's audit records about one subject, from the stack's audit log group
 * (`/tokenvend/<env>/audit`) through the Logs Insights query docs/audit.md documents. Records hold names and
 * codes only, never a token.
 */
import {
  CloudWatchLogsClient,
  GetQueryResultsCommand,
  type ResultField,
  StartQueryCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { AUDIT_FORMAT, type AuditRecord } from '../functions/core/ports.js';
import { auditLogGroupName } from '../lib/audit-log.js';
import type { Command } from './command.js';
import {
  awsFailure,
  awsOptions,
  awsSettings,
  clientConfig,
  envOptions,
  loadEnvironment,
} from './environment.js';
import { CliError, EXIT, json, table, usageError } from './output.js';

/** Subjects and integration ids as stored: no quote or backslash can reach the query. */
const QUERY_VALUE = /^[A-Za-z0-9:._@%+/=-]{1,512}$/;

/** `--since 30m | 24h | 7d | 2026-11-30T00:00:00Z` as epoch milliseconds. */
export function parseSince(text: string, nowMs: number): number {
  const relative = /^(\d{1,5})([mhd])$/.exec(text);
  if (relative) {
    const unit = { m: 60_000, h: 3_600_000, d: 86_400_000 }[relative[2] as 'm' | 'h' | 'd'];
    return nowMs - Number(relative[1]) * unit;
  }
  const at = /^\d{4}-\d{2}-\d{2}(?:T[\d:.]+Z)?$/.test(text) ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(at))
    throw usageError(`--since ${text}: use 30m, 24h, 7d or an ISO date (2026-11-30T00:00:00Z)`);
  return at;
}

/** The documented query (docs/audit.md): the subject's records, as actor or as the connection's subject. */
export function auditQuery(
  subject: string,
  options: { integration?: string | undefined; limit: number },
): string {
  const filters = [`format = "${AUDIT_FORMAT}"`, `(subject = "${subject}" or actor = "${subject}")`];
  if (options.integration !== undefined) filters.push(`integration = "${options.integration}"`);
  return [
    'fields @timestamp, @message',
    `| filter ${filters.join(' and ')}`,
    '| sort @timestamp desc',
    `| limit ${options.limit}`,
  ].join('\n');
}

function recordOf(fields: readonly ResultField[]): AuditRecord | undefined {
  const message = fields.find((f) => f.field === '@message')?.value;
  if (!message) return undefined;
  try {
    const record = JSON.parse(message) as AuditRecord;
    return record.format === AUDIT_FORMAT ? record : undefined;
  } catch {
    return undefined;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export const audit: Command = {
  name: 'audit',
  usage:
    'tokenvend audit --env <env> --subject <subject> [--integration <id>] [--since <30m|24h|7d|date>] [--limit <n>] [--json]',
  summary: "a subject's audit records: who did what to which connection, and how it ended (never tokens)",
  help: [
    'Runs the Logs Insights query of docs/audit.md over the audit log group /tokenvend/<env>/audit (--log-group to',
    'name another): the records whose connection subject or actor is <subject>, newest first. Subjects are as',
    'stored: user:<namespace>:<claim>, service:<name>, or an IAM principal ARN for on-behalf vends.',
    '--since defaults to 24h; --limit to 100 (at most 10000).',
  ].join('\n'),
  options: {
    ...envOptions,
    ...awsOptions,
    subject: { type: 'string' },
    integration: { type: 'string' },
    since: { type: 'string' },
    limit: { type: 'string' },
    'log-group': { type: 'string' },
  },
  positionals: { min: 0, max: 0 },
  async run({ io, values, jsonOutput }) {
    const environment = loadEnvironment(io, values);
    const subject = values.subject;
    if (typeof subject !== 'string') throw usageError('--subject <subject> is required');
    if (!QUERY_VALUE.test(subject))
      throw usageError(`--subject: not a stored subject (${subject.length} characters)`);
    const integration = values.integration as string | undefined;
    if (integration !== undefined) environment.integration(integration);
    const limitText = (values.limit as string | undefined) ?? '100';
    if (!/^[1-9]\d{0,4}$/.test(limitText) || Number(limitText) > 10_000) {
      throw usageError(`--limit ${limitText}: a whole number from 1 to 10000`);
    }
    const nowMs = io.now();
    const sinceMs = parseSince((values.since as string | undefined) ?? '24h', nowMs);
    const logGroupName = (values['log-group'] as string | undefined) ?? auditLogGroupName(environment.name);
    const client = new CloudWatchLogsClient(clientConfig(awsSettings(io, values, environment)));
    let records: AuditRecord[];
    try {
      const { queryId } = await client.send(
        new StartQueryCommand({
          logGroupName,
          startTime: Math.floor(sinceMs / 1000),
          endTime: Math.ceil(nowMs / 1000),
          queryString: auditQuery(subject, { integration, limit: Number(limitText) }),
        }),
      );
      const deadline = Date.now() + 120_000;
      for (;;) {
        const result = await client.send(new GetQueryResultsCommand({ queryId }));
        if (result.status === 'Complete') {
          // The filter again, here: a Logs Insights stand-in may not apply it, and nothing else may show.
          records = (result.results ?? [])
            .map(recordOf)
            .filter((r): r is AuditRecord => r !== undefined)
            .filter((r) => r.subject === subject || r.actor === subject)
            .filter((r) => integration === undefined || r.integration === integration);
          break;
        }
        if (result.status !== 'Running' && result.status !== 'Scheduled') {
          throw new CliError(
            `the audit query ended ${result.status ?? 'without a status'}`,
            EXIT.unavailable,
          );
        }
        if (Date.now() > deadline)
          throw new CliError('the audit query did not finish in 2 minutes', EXIT.unavailable);
        await sleep(1_000);
      }
    } catch (error) {
      if (error instanceof CliError) throw error;
      throw awsFailure(`audit query on ${logGroupName}`, error);
    } finally {
      client.destroy();
    }
    if (jsonOutput) io.out(json({ logGroup: logGroupName, records }));
    else if (records.length === 0)
      io.out(`no audit records for ${subject} since ${new Date(sinceMs).toISOString()}`);
    else {
      io.out(
        table(
          ['time', 'action', 'outcome', 'integration', 'subject', 'actor', 'source ip', 'request id'],
          records.map((r) => [
            r.time,
            r.action,
            r.outcome,
            r.integration,
            r.subject,
            r.actor,
            r.sourceIp,
            r.requestId,
          ]),
        ),
      );
    }
    return EXIT.ok;
  },
};
