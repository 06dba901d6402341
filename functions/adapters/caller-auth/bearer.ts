/**
 * Extracts the token from an `Authorization: Bearer ...` header
 * (https://www.rfc-editor.org/rfc/rfc6750#section-2.1). The scheme name is case-insensitive
 * (https://www.rfc-editor.org/rfc/rfc9110#section-11.1).
 */
import { CallerAuthError } from './errors.js';

/** Far above any real user JWT; bounds the work done on hostile input before any parsing. */
export const maxAuthorizationHeaderLength = 16 * 1024;

const bearerPattern = /^bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

export function bearerToken(header: string | undefined): string {
  if (header === undefined || header.trim() === '') throw new CallerAuthError('missing');
  if (header.length > maxAuthorizationHeaderLength) throw new CallerAuthError('malformed');
  const match = bearerPattern.exec(header);
  if (!match) throw new CallerAuthError('malformed');
  return match[1] as string;
}
