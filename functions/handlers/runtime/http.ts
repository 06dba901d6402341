/** Small request/response helpers shared by the HTTP handlers. */
import { InvalidRequestError } from '../../core/errors.js';
import { type HttpEvent, type HttpResult, header } from '../middleware/types.js';
import type { App } from './app.js';

/** The request body as text, whatever API Gateway did with it. */
export function bodyText(event: HttpEvent): string {
  if (event.body === undefined || event.body === null) return '';
  return event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
}

/** A JSON object body (empty body = `{}`); anything else is a 400. */
export function jsonBody(event: HttpEvent): Record<string, unknown> {
  const text = bodyText(event).trim();
  if (text === '') return {};
  const type = header(event, 'content-type') ?? '';
  // Exactly application/json, with parameters (charset): not json-seq, jsonp or anything else that starts alike.
  if (!/^application\/json\s*(;|$)/i.test(type)) {
    throw new InvalidRequestError('the body must be application/json', { status: 415 });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new InvalidRequestError('the body is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new InvalidRequestError('the body must be a JSON object');
  }
  return parsed as Record<string, unknown>;
}

/** An `application/x-www-form-urlencoded` body; duplicated fields are refused. */
export function formBody(event: HttpEvent, fields: readonly string[]): Record<string, string | undefined> {
  const type = header(event, 'content-type') ?? '';
  if (!/^application\/x-www-form-urlencoded\s*(;|$)/i.test(type)) {
    throw new InvalidRequestError('the body must be application/x-www-form-urlencoded', { status: 415 });
  }
  const params = new URLSearchParams(bodyText(event));
  const out: Record<string, string | undefined> = {};
  for (const field of fields) {
    const values = params.getAll(field);
    if (values.length > 1) throw new InvalidRequestError(`${field} appears more than once`);
    out[field] = values[0];
  }
  return out;
}

/** The query string exactly as sent (API Gateway's parsed map joins duplicates with commas). */
export function queryParams(event: HttpEvent): URLSearchParams {
  return new URLSearchParams(event.rawQueryString ?? '');
}

export function pathParam(event: HttpEvent, name: string): string {
  const value = event.pathParameters?.[name];
  if (!value)
    throw new InvalidRequestError(`missing path parameter ${name}`, { status: 404, error: 'not_found' });
  return value;
}

/** The public base URL of this API: configured, else the host API Gateway was called on. */
export function baseUrl(app: App, event: HttpEvent): string {
  const configured = app.flows.deployment.config.publicBaseUrl;
  if (configured) return configured;
  const proto = header(event, 'x-forwarded-proto') ?? 'https';
  return `${proto}://${event.requestContext.domainName}`;
}

export function redirect(location: string): HttpResult {
  return { statusCode: 302, headers: { location }, body: '' };
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A minimal result page for flows without a return URL. */
export function resultPage(status: number, title: string, message: string): HttpResult {
  return {
    statusCode: status,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
    },
    body: `<!doctype html><meta charset="utf-8"><title>${escapeHtml(title)}</title><body style="font-family:sans-serif;margin:3em"><h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p></body>`,
  };
}

/** Adds `tokenvend=connected&integration=x` to a return URL so the frontend knows what happened. */
export function withOutcome(returnTo: string, outcome: Record<string, string>): string {
  const url = new URL(returnTo);
  for (const [k, v] of Object.entries(outcome)) url.searchParams.set(k, v);
  return url.toString();
}

/** The header naming an access token the vendor refused: the base64url SHA-256 of it (43 characters). */
export const REJECTED_TOKEN_HEADER = 'x-tokenvend-rejected';

/** The refused token's hash from {@link REJECTED_TOKEN_HEADER}, if sent; anything but a SHA-256 is a 400. */
export function rejectedToken(event: HttpEvent): string | undefined {
  const value = header(event, REJECTED_TOKEN_HEADER);
  if (value === undefined) return undefined;
  if (!/^[A-Za-z0-9_-]{43}$/.test(value)) {
    throw new InvalidRequestError(
      `${REJECTED_TOKEN_HEADER} must be the base64url SHA-256 of the refused token`,
    );
  }
  return value;
}
