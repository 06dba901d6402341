/**
 * The refresh queue on SQS: the planner's due connections go to their integration's queue in
 * SendMessageBatch calls of at most 10 entries (the SQS limit), a few calls at a time. Best effort per
 * message: `send` never throws; it resolves with the messages that did not reach a queue (entries SQS
 * reported as failed, every entry of a call that threw, messages of an integration without a queue), so the
 * planner can count them and leave them to its next run. Sending a message twice is harmless: the worker
 * drops a message whose connection version moved on.
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessageBatch.html
 */
import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { RefreshMessage, RefreshQueue } from '../../core/ports.js';
import { formatRefreshMessage } from './refresh-message.js';

/** Most entries SQS accepts in one SendMessageBatch call. */
export const MAX_BATCH_ENTRIES = 10;

export interface SqsRefreshQueueOptions {
  client: SQSClient;
  /** URL of an integration's refresh queue; undefined for an integration that has none. */
  queueUrlFor: (integration: string) => string | undefined;
  /** Most SendMessageBatch calls in flight at once. Default 4. */
  concurrency?: number;
}

/** One SendMessageBatch call: a queue and up to 10 messages, by their index in the `send` input. */
interface Chunk {
  queueUrl: string;
  indexes: number[];
}

export class SqsRefreshQueue implements RefreshQueue {
  readonly #client: SQSClient;
  readonly #queueUrlFor: (integration: string) => string | undefined;
  readonly #concurrency: number;

  constructor(options: SqsRefreshQueueOptions) {
    this.#client = options.client;
    this.#queueUrlFor = options.queueUrlFor;
    this.#concurrency = Math.max(1, Math.floor(options.concurrency ?? 4));
  }

  /** Resolves with the messages that could not be sent, in their input order; never rejects. */
  async send(messages: readonly RefreshMessage[]): Promise<RefreshMessage[]> {
    const failed = new Set<number>();
    const chunks = this.#chunk(messages, failed);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < chunks.length) {
        const chunk = chunks[next++]!;
        for (const index of await this.#sendChunk(chunk, messages)) failed.add(index);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.#concurrency, chunks.length) }, worker));
    return [...failed].sort((a, b) => a - b).map((index) => messages[index]!);
  }

  /** Groups message indexes by queue URL into chunks of at most 10; marks messages without a queue failed. */
  #chunk(messages: readonly RefreshMessage[], failed: Set<number>): Chunk[] {
    const byQueue = new Map<string, number[]>();
    messages.forEach((message, index) => {
      const queueUrl = this.#urlOf(message.integration);
      if (!queueUrl) {
        failed.add(index);
        return;
      }
      const indexes = byQueue.get(queueUrl);
      if (indexes) indexes.push(index);
      else byQueue.set(queueUrl, [index]);
    });
    const chunks: Chunk[] = [];
    for (const [queueUrl, indexes] of byQueue) {
      for (let start = 0; start < indexes.length; start += MAX_BATCH_ENTRIES) {
        chunks.push({ queueUrl, indexes: indexes.slice(start, start + MAX_BATCH_ENTRIES) });
      }
    }
    return chunks;
  }

  #urlOf(integration: string): string | undefined {
    try {
      return this.#queueUrlFor(integration);
    } catch {
      return undefined;
    }
  }

  /** Sends one chunk (entry Id = position in the chunk); returns the input indexes that were not sent. */
  async #sendChunk(chunk: Chunk, messages: readonly RefreshMessage[]): Promise<number[]> {
    try {
      const out = await this.#client.send(
        new SendMessageBatchCommand({
          QueueUrl: chunk.queueUrl,
          Entries: chunk.indexes.map((index, id) => ({
            Id: String(id),
            MessageBody: formatRefreshMessage(messages[index]!),
          })),
        }),
      );
      // An entry SQS lists neither as successful nor as failed is counted as failed: resending is harmless,
      // losing it is not.
      const sent = new Set((out.Successful ?? []).map((entry) => entry.Id));
      const rejected = new Set((out.Failed ?? []).map((entry) => entry.Id));
      return chunk.indexes.filter((_, id) => rejected.has(String(id)) || !sent.has(String(id)));
    } catch {
      // Throttling, a missing queue, access denied, the network: none of this chunk is known to be sent.
      return chunk.indexes;
    }
  }
}
