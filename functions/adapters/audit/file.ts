/**
 * Audit records of the local runtime: JSON lines appended to a file under the state folder (`audit.jsonl`), which
 * the console reads back. `send` never throws; a failure goes to `onError`.
 */
import { appendFile, readFile } from 'node:fs/promises';
import type { AuditRecord, AuditTransport } from '../../core/ports.js';

export class FileAuditTransport implements AuditTransport {
  readonly #file: string;
  readonly #onError: ((error: unknown) => void) | undefined;
  /** Appends in order, one at a time. */
  #queue: Promise<void> = Promise.resolve();

  constructor(file: string, options: { onError?: (error: unknown) => void } = {}) {
    this.#file = file;
    this.#onError = options.onError;
  }

  send(records: readonly AuditRecord[]): Promise<void> {
    const lines = records.map((record) => `${JSON.stringify(record)}\n`).join('');
    this.#queue = this.#queue
      .then(() => appendFile(this.#file, lines, { mode: 0o600 }))
      .catch((error: unknown) => this.#onError?.(error));
    return this.#queue;
  }

  /** The records written so far, oldest first (an unreadable line is skipped). */
  async read(): Promise<AuditRecord[]> {
    await this.#queue;
    let text: string;
    try {
      text = await readFile(this.#file, 'utf8');
    } catch {
      return [];
    }
    const records: AuditRecord[] = [];
    for (const line of text.split('\n')) {
      if (!line) continue;
      try {
        records.push(JSON.parse(line) as AuditRecord);
      } catch {
        // A torn line (the process stopped mid-write) is skipped, not fatal.
      }
    }
    return records;
  }
}
