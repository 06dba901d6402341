/**
 * The audit trail (docs/audit.md): one structured record per action on a connection. Each HTTP request that
 * runs an audited route writes exactly one route record once its answer is known; core writes its own records
 * (a refresh) through the {@link AuditSink} port. Both are stamped with the request's id, source IP and user
 * agent, kept per request in an AsyncLocalStorage scope (the local runtime serves requests concurrently), and
 * handed to a transport (a dedicated CloudWatch log group in AWS, a file locally) at the end of the request.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import {
  AUDIT_FORMAT,
  type AuditAction,
  type AuditEntry,
  type AuditRecord,
  type AuditSink,
  type AuditTransport,
} from '../../core/ports.js';
import type { HttpEvent, HttpResult } from '../middleware/types.js';

interface Scope {
  requestId?: string | undefined;
  sourceIp?: string | undefined;
  userAgent?: string | undefined;
  /** What the handler learned: who acted, on which connection, and an outcome a page could not carry. */
  notes: Partial<AuditEntry>;
  /** The request's records, sent when it ends. */
  records: AuditRecord[];
}

/** Outcome codes are our own closed vocabulary (`ok`, error codes, failure classes): anything else is dropped. */
const CODE = /^[a-z][a-z0-9_]{0,39}$/;
const MAX_USER_AGENT = 256;
const MAX_FIELD = 512;

const clip = (value: string | undefined, max = MAX_FIELD): string | undefined =>
  value === undefined ? undefined : value.length > max ? `${value.slice(0, max)}...` : value;

function outcomeOf(result: HttpResult, noted: string | undefined): string {
  if (noted !== undefined && CODE.test(noted)) return noted;
  if ((result.statusCode ?? 200) < 400) return 'ok';
  try {
    const error = (JSON.parse(result.body ?? '') as { error?: unknown }).error;
    if (typeof error === 'string' && CODE.test(error)) return error;
  } catch {
    // An HTML page or an empty body: the status says enough.
  }
  return `http_${result.statusCode ?? 500}`;
}

export class AuditTrail implements AuditSink {
  readonly #transport: AuditTransport;
  readonly #nowMs: () => number;
  readonly #scopes = new AsyncLocalStorage<Scope>();
  /** Records written outside any request (the refresh worker), sent by {@link flush}. */
  readonly #unscoped: AuditRecord[] = [];

  constructor(transport: AuditTransport, options: { nowMs?: () => number } = {}) {
    this.#transport = transport;
    this.#nowMs = options.nowMs ?? Date.now;
  }

  /** Core's records (a refresh): stamped with the current request, and its actor when the entry names none. */
  write(entry: AuditEntry): void {
    const scope = this.#scopes.getStore();
    (scope ? scope.records : this.#unscoped).push(this.#stamp(entry, scope));
  }

  /** What a handler learned about the request's route record (the actor, the connection's subject). */
  note(fields: Partial<AuditEntry>): void {
    const scope = this.#scopes.getStore();
    if (scope) Object.assign(scope.notes, fields);
  }

  /**
   * Runs one HTTP request inside its audit scope. When `action` is set, the request's route record is written
   * from the final answer (errors included), then every record of the request is sent before answering.
   */
  async around(
    event: HttpEvent,
    action: AuditAction | undefined,
    run: () => Promise<HttpResult>,
  ): Promise<HttpResult> {
    const http = event.requestContext?.http as { sourceIp?: string; userAgent?: string } | undefined;
    const scope: Scope = {
      // API Gateway's request id: the same id as its access log line.
      requestId: event.requestContext?.requestId,
      sourceIp: http?.sourceIp,
      userAgent: clip(http?.userAgent, MAX_USER_AGENT),
      notes: {},
      records: [],
    };
    const iam = (event.requestContext as { authorizer?: { iam?: { userArn?: string } } } | undefined)
      ?.authorizer?.iam?.userArn;
    if (iam) scope.notes.actor = iam;
    return this.#scopes.run(scope, async () => {
      let result: HttpResult | undefined;
      try {
        result = await run();
        return result;
      } finally {
        if (action) {
          const { notes } = scope;
          const answer = result ?? { statusCode: 500, body: '' };
          const integration = notes.integration ?? event.pathParameters?.integration;
          const entry = {
            action,
            outcome: outcomeOf(answer, notes.outcome),
            integration: clip(integration, 128),
            subject: notes.subject,
            actor: notes.actor,
          };
          scope.records.push({ ...this.#stamp(entry, scope), status: answer.statusCode });
        }
        if (scope.records.length) await this.#transport.send(scope.records);
      }
    });
  }

  /** Sends the records written outside any request (the refresh worker calls it at the end of a batch). */
  async flush(): Promise<void> {
    const records = this.#unscoped.splice(0);
    if (records.length) await this.#transport.send(records);
  }

  #stamp(entry: AuditEntry, scope: Scope | undefined): AuditRecord {
    return {
      format: AUDIT_FORMAT,
      time: new Date(this.#nowMs()).toISOString(),
      action: entry.action,
      outcome: CODE.test(entry.outcome) ? entry.outcome : 'error',
      integration: entry.integration,
      subject: clip(entry.subject),
      // Outside any request, only the scheduled refresh writes: tokenvend itself acted.
      actor: clip(entry.actor ?? (scope ? scope.notes.actor : 'tokenvend')),
      requestId: scope?.requestId,
      sourceIp: scope?.sourceIp,
      userAgent: scope?.userAgent,
    };
  }
}
