/**
 * Connection events on an EventBridge bus: one PutEvents entry per event, `detail-type` = the event type
 * (`connection.needs_reauth`, ...), `source` = `tokenvend` unless configured, `detail` = names and codes only
 * (see `ConnectionEventDetail`). Best effort: `publish` never throws. A failure (SDK error, or the entry
 * rejected by EventBridge) is reported to `onError` with an error code, never with the event's content.
 * https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEvents.html
 */
import { type EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { ConnectionEvent, ConnectionEventSink, ConnectionEventType } from '../../core/ports.js';

/** Default `source` of the events (rules match on it). */
export const DEFAULT_EVENT_SOURCE = 'tokenvend';
/** Version of the `detail` schema; bumped when a field changes meaning or goes away. */
export const EVENT_DETAIL_VERSION = 1;

/** The `detail` of every connection event, exactly these fields. */
export interface ConnectionEventDetail {
  integration: string;
  subject: string;
  /** The grant, failure class, reauth reason or `user` (see `ConnectionEvent.reason`). */
  reason: string;
  /** When it happened, ISO 8601 (UTC). */
  time: string;
  /** Schema version of this detail: `EVENT_DETAIL_VERSION`. */
  version: typeof EVENT_DETAIL_VERSION;
}

/** What `onError` learns about a failed publish: a code only (an SDK error name or an EventBridge ErrorCode). */
export interface EventPublishProblem {
  code: string;
}

export interface EventBridgeEventSinkOptions {
  client: EventBridgeClient;
  /** Name (or ARN) of the bus. */
  busName: string;
  /** `source` of the events. Default `tokenvend`. */
  source?: string;
  /** Told about each event that could not be published (for a log line or a metric). Must not throw. */
  onError?: (problem: EventPublishProblem) => void;
}

/** The `detail` of `event`, built field by field so nothing else can slip in. */
export function connectionEventDetail(event: ConnectionEvent): ConnectionEventDetail {
  return {
    integration: event.integration,
    subject: event.subject,
    reason: event.reason,
    time: new Date(event.time * 1000).toISOString(),
    version: EVENT_DETAIL_VERSION,
  };
}

export class EventBridgeEventSink implements ConnectionEventSink {
  readonly #client: EventBridgeClient;
  readonly #busName: string;
  readonly #source: string;
  readonly #onError: (problem: EventPublishProblem) => void;

  constructor(options: EventBridgeEventSinkOptions) {
    this.#client = options.client;
    this.#busName = options.busName;
    this.#source = options.source ?? DEFAULT_EVENT_SOURCE;
    this.#onError = options.onError ?? (() => {});
  }

  async publish(event: ConnectionEvent): Promise<void> {
    let code: string | undefined;
    try {
      const detailType: ConnectionEventType = event.type;
      const out = await this.#client.send(
        new PutEventsCommand({
          Entries: [
            {
              EventBusName: this.#busName,
              Source: this.#source,
              DetailType: detailType,
              Detail: JSON.stringify(connectionEventDetail(event)),
              Time: new Date(event.time * 1000),
            },
          ],
        }),
      );
      if ((out.FailedEntryCount ?? 0) > 0) {
        code = out.Entries?.find((entry) => entry.ErrorCode)?.ErrorCode ?? 'FailedEntry';
      }
    } catch (error) {
      code = errorCode(error);
    }
    if (code === undefined) return;
    try {
      this.#onError({ code });
    } catch {
      // A failing error hook must not turn a best-effort publish into a failure.
    }
  }
}

/**
 * A code for a thrown error, never its message: the SDK error's name (`ResourceNotFoundException`,
 * `TimeoutError`, ...), or for a plain `Error` from the network its Node code (`ECONNREFUSED`, ...).
 */
function errorCode(error: unknown): string {
  const { name, code } = (typeof error === 'object' && error !== null ? error : {}) as {
    name?: unknown;
    code?: unknown;
  };
  if (typeof name === 'string' && name.length > 0 && name !== 'Error') return name;
  if (typeof code === 'string' && code.length > 0) return code;
  return typeof name === 'string' && name.length > 0 ? name : 'UnknownError';
}
