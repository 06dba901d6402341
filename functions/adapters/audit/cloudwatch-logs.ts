/**
 * Audit records into the stack's dedicated CloudWatch log group (per-environment retention), one JSON line per
 * record. Each container writes its own log stream, created on first use. `send` never throws: a failure is
 * reported to `onError` with an error code and the number of records, never their content.
 * https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutLogEvents.html
 */
import { randomUUID } from 'node:crypto';
import {
  type CloudWatchLogsClient,
  CreateLogStreamCommand,
  PutLogEventsCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import type { AuditRecord, AuditTransport } from '../../core/ports.js';

export interface AuditWriteProblem {
  /** The SDK error name. */
  code: string;
  /** How many records were lost. */
  records: number;
}

export interface CloudWatchAuditTransportOptions {
  client: CloudWatchLogsClient;
  logGroupName: string;
  /** Names this container's stream (`<prefix>/<uuid>`): the function name in Lambda. */
  streamPrefix: string;
  /** Told about each batch that could not be written (for a log line or a metric). Must not throw. */
  onError?: (problem: AuditWriteProblem) => void;
}

const errorName = (error: unknown): string =>
  error instanceof Error && /^[A-Za-z][A-Za-z0-9_.]{0,79}$/.test(error.name) ? error.name : 'Error';

export class CloudWatchAuditTransport implements AuditTransport {
  readonly #options: CloudWatchAuditTransportOptions;
  readonly #stream: string;
  #created: Promise<void> | undefined;

  constructor(options: CloudWatchAuditTransportOptions) {
    this.#options = options;
    const day = new Date().toISOString().slice(0, 10).replaceAll('-', '/');
    this.#stream = `${day}/${options.streamPrefix}/${randomUUID()}`;
  }

  async send(records: readonly AuditRecord[]): Promise<void> {
    if (records.length === 0) return;
    const { client, logGroupName } = this.#options;
    // PutLogEvents wants the events of a batch in time order.
    const logEvents = records
      .map((record) => ({ timestamp: Date.parse(record.time), message: JSON.stringify(record) }))
      .sort((a, b) => a.timestamp - b.timestamp);
    try {
      this.#created ??= this.#createStream();
      await this.#created;
      await client.send(new PutLogEventsCommand({ logGroupName, logStreamName: this.#stream, logEvents }));
    } catch (error) {
      // A stream that could not be created is tried again by the next request.
      this.#created = undefined;
      this.#options.onError?.({ code: errorName(error), records: records.length });
    }
  }

  async #createStream(): Promise<void> {
    try {
      await this.#options.client.send(
        new CreateLogStreamCommand({ logGroupName: this.#options.logGroupName, logStreamName: this.#stream }),
      );
    } catch (error) {
      if (errorName(error) !== 'ResourceAlreadyExistsException') throw error;
    }
  }
}
