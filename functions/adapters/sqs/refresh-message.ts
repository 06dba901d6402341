/**
 * The wire format of a refresh message (planner -> SQS -> worker): a JSON object with exactly the four fields of
 * `RefreshMessage`. The worker parses every body with `parseRefreshMessage`, a hand-written strict check (this
 * runs once per SQS record in the worker's hot path, so no schema library). Never a token in a body.
 */
import type { RefreshMessage } from '../../core/ports.js';

/** Integration ids as the deployment config allows them: lowercase, digits and dashes, 1..63 chars. */
const INTEGRATION_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;
/** Longest subject accepted (UTF-16 code units). */
export const MAX_SUBJECT_LENGTH = 1024;
/**
 * Longest body looked at: a maximal subject fully `\uXXXX`-escaped (6 chars each) plus the rest fits well
 * below this; anything longer is not ours and is dropped before `JSON.parse`.
 */
const MAX_BODY_LENGTH = 8192;
const FIELD_COUNT = 4;

/** The body the planner sends: exactly the four fields, whatever else `message` carries. */
export function formatRefreshMessage(message: RefreshMessage): string {
  return JSON.stringify({
    integration: message.integration,
    subject: message.subject,
    version: message.version,
    refreshDueAt: message.refreshDueAt,
  });
}

/**
 * Reads a refresh message from an SQS body. Returns undefined for anything but a JSON object with exactly
 * `integration` (an integration id), `subject` (1..1024 chars), `version` (integer >= 1) and `refreshDueAt`
 * (integer >= 0): bad JSON, extra or missing keys (`__proto__` included), wrong types, out-of-range numbers.
 */
export function parseRefreshMessage(body: string): RefreshMessage | undefined {
  if (typeof body !== 'string' || body.length > MAX_BODY_LENGTH) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  // JSON.parse makes `"__proto__"` an own key (it does not set the prototype), so it counts as an extra key.
  if (Object.keys(parsed).length !== FIELD_COUNT) return undefined;
  if (
    !Object.hasOwn(parsed, 'integration') ||
    !Object.hasOwn(parsed, 'subject') ||
    !Object.hasOwn(parsed, 'version') ||
    !Object.hasOwn(parsed, 'refreshDueAt')
  ) {
    return undefined;
  }
  const { integration, subject, version, refreshDueAt } = parsed as Record<string, unknown>;
  if (typeof integration !== 'string' || !INTEGRATION_ID.test(integration)) return undefined;
  if (typeof subject !== 'string' || subject.length === 0 || subject.length > MAX_SUBJECT_LENGTH) {
    return undefined;
  }
  if (!Number.isSafeInteger(version) || (version as number) < 1) return undefined;
  if (!Number.isSafeInteger(refreshDueAt) || (refreshDueAt as number) < 0) return undefined;
  return { integration, subject, version: version as number, refreshDueAt: refreshDueAt as number };
}
