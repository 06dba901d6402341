/** Helpers to inspect and tamper with stored token ciphertexts (`tv1.<source>.<wrapped>.<iv>.<sealed>`). */

/** The decoded bytes of every base64url segment, as latin1, to search for plaintext. */
export function decodedParts(stored: string): string {
  return stored
    .split('.')
    .slice(2)
    .map((part) => Buffer.from(part, 'base64url').toString('latin1'))
    .join('\n');
}

/** One-bit flips in each region: wrapped key (start, end), IV, body, tag. Each value is labelled. */
export function tamperings(stored: string): Array<[string, string]> {
  const [version, source, ...segments] = stored.split('.');
  const bytes = segments.map((segment) => Buffer.from(segment, 'base64url'));
  const flip = (segment: number, index: number): string => {
    const copy = bytes.map((b) => Buffer.from(b));
    const target = copy[segment]!;
    const at = index < 0 ? target.length + index : index;
    target[at] = (target[at] ?? 0) ^ 0x01;
    return [version, source, ...copy.map((b) => b.toString('base64url'))].join('.');
  };
  return [
    ['wrapped key start', flip(0, 0)],
    ['wrapped key end', flip(0, -1)],
    ['iv', flip(1, 5)],
    ['body', flip(2, 0)],
    ['tag', flip(2, -1)],
  ];
}
