/** The plain HTTP shapes the engine builds and reads, so request building stays pure and testable. */
export interface HttpRequest {
  method: 'GET' | 'POST' | 'DELETE';
  url: string;
  headers: Record<string, string>;
  body?: string | undefined;
}

export interface HttpResponse {
  status: number;
  headers: Headers;
  /** The body as text, capped at {@link MAX_VENDOR_BODY_BYTES}. */
  body: string;
}

/** The `fetch` the engine is given; tests and adapters inject their own. */
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

/** Token endpoint answers are small; anything larger is malformed (and not worth buffering). */
export const MAX_VENDOR_BODY_BYTES = 1024 * 1024;
