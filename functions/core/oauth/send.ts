/** Sending an {@link HttpRequest} through the injected fetch, with a timeout and a body size cap. */
import { VendorUnavailableError } from '../errors.js';
import { type FetchLike, type HttpRequest, type HttpResponse, MAX_VENDOR_BODY_BYTES } from './http.js';

export interface SendOptions {
  fetch: FetchLike;
  /** Whole-request timeout in milliseconds. */
  timeoutMs: number;
}

/**
 * Reads the body, giving up (and answering '') as soon as it passes the cap: a chunked body without
 * Content-Length must not be buffered whole before it is measured.
 */
async function readCapped(response: Response): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? '0');
  if (declared > MAX_VENDOR_BODY_BYTES || !response.body) {
    await response.body?.cancel();
    return '';
  }
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > MAX_VENDOR_BODY_BYTES) {
      await reader.cancel();
      return '';
    }
    chunks.push(value);
  }
  return new TextDecoder().decode(Buffer.concat(chunks));
}

/**
 * Sends `request`. Network failures become {@link VendorUnavailableError}: `outcomeUnknown` is false only
 * when the connection was refused before anything was sent.
 */
export async function send(request: HttpRequest, options: SendOptions): Promise<HttpResponse> {
  const host = new URL(request.url).host;
  let response: Response;
  try {
    response = await options.fetch(request.url, {
      method: request.method,
      headers: request.headers,
      body: request.body,
      redirect: 'manual',
      signal: AbortSignal.timeout(options.timeoutMs),
    });
    return { status: response.status, headers: response.headers, body: await readCapped(response) };
  } catch (e) {
    const timedOut = e instanceof DOMException && (e.name === 'TimeoutError' || e.name === 'AbortError');
    const code = (e as { cause?: { code?: string } }).cause?.code;
    const refused = code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN';
    return Promise.reject(
      new VendorUnavailableError(
        timedOut
          ? `${host} did not answer within ${options.timeoutMs} ms`
          : `could not reach ${host}${code ? ` (${code})` : ''}`,
        { error: 'temporarily_unavailable', status: 504, outcomeUnknown: !refused },
      ),
    );
  }
}
