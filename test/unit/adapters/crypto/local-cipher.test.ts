import { randomBytes } from 'node:crypto';
import {
  createLocalCipher,
  DecryptionError,
  FORMAT_VERSION,
} from '../../../../functions/adapters/crypto/index.js';
import { ConfigError } from '../../../../functions/core/errors.js';
import type { EncryptionContext } from '../../../../functions/core/ports.js';

const alice: EncryptionContext = { integration: 'genesys-eu', subject: 'alice', kind: 'access_token' };

/** A token-like plaintext, fresh per test, so a leak check cannot pass by accident. */
function canary(): string {
  return `canary-${randomBytes(24).toString('base64url')}`;
}

/** Every string an error exposes: message, name, cause chain, own properties. */
function errorText(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current && depth < 5; depth++) {
    if (current instanceof Error) parts.push(current.name, current.message, current.stack ?? '');
    parts.push(JSON.stringify(current, Object.getOwnPropertyNames(current)));
    current = (current as { cause?: unknown }).cause;
  }
  return parts.join('\n');
}

async function decryptError(promise: Promise<unknown>): Promise<DecryptionError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(DecryptionError);
  return error as DecryptionError;
}

describe('createLocalCipher', () => {
  const cipher = createLocalCipher(randomBytes(32));

  it('round-trips a token and never stores it in clear', async () => {
    const token = canary();
    const stored = await cipher.encrypt(token, alice);
    expect(stored.startsWith(FORMAT_VERSION)).toBe(true);
    expect(stored).not.toContain(token);
    expect(Buffer.from(stored.slice(FORMAT_VERSION.length), 'base64url').toString('latin1')).not.toContain(
      token,
    );
    await expect(cipher.decrypt(stored, alice)).resolves.toBe(token);
  });

  it('round-trips unicode and empty-looking edge values', async () => {
    for (const token of ['x', 'ünïcødé-🔑', 'a'.repeat(8000)]) {
      await expect(cipher.decrypt(await cipher.encrypt(token, alice), alice)).resolves.toBe(token);
    }
  });

  it('produces a different ciphertext each time (fresh IV / message id)', async () => {
    const token = canary();
    const [a, b] = [await cipher.encrypt(token, alice), await cipher.encrypt(token, alice)];
    expect(a).not.toBe(b);
  });

  it.each([
    ['integration', { ...alice, integration: 'ringcentral' }],
    ['subject', { ...alice, subject: 'bob' }],
    ['kind', { ...alice, kind: 'refresh_token' as const }],
  ])('refuses a ciphertext decrypted under another %s (swapped rows)', async (_field, other) => {
    const token = canary();
    const stored = await cipher.encrypt(token, alice);
    const error = await decryptError(cipher.decrypt(stored, other));
    expect(error.reason).toBe('context');
    expect(error.status).toBe(500);
    expect(errorText(error)).not.toContain(token);
    expect(errorText(error)).not.toContain(stored.slice(FORMAT_VERSION.length, FORMAT_VERSION.length + 40));
  });

  it('refuses swapped ciphertexts of two real rows', async () => {
    const bob: EncryptionContext = { ...alice, subject: 'bob' };
    const aliceRow = await cipher.encrypt(canary(), alice);
    const bobRow = await cipher.encrypt(canary(), bob);
    await expect(cipher.decrypt(bobRow, alice)).rejects.toBeInstanceOf(DecryptionError);
    await expect(cipher.decrypt(aliceRow, bob)).rejects.toBeInstanceOf(DecryptionError);
  });

  it('refuses a tampered ciphertext, whichever byte is flipped', async () => {
    const token = canary();
    const stored = await cipher.encrypt(token, alice);
    const bytes = Buffer.from(stored.slice(FORMAT_VERSION.length), 'base64url');
    // Header, wrapped key, body and tag regions.
    for (const index of [5, Math.floor(bytes.length / 2), bytes.length - 20, bytes.length - 1]) {
      const tampered = Buffer.from(bytes);
      tampered[index] = (tampered[index] ?? 0) ^ 0x01;
      const error = await decryptError(cipher.decrypt(FORMAT_VERSION + tampered.toString('base64url'), alice));
      expect(['integrity', 'context']).toContain(error.reason);
      expect(errorText(error)).not.toContain(token);
    }
  });

  it('refuses a truncated ciphertext', async () => {
    const stored = await cipher.encrypt(canary(), alice);
    const error = await decryptError(cipher.decrypt(stored.slice(0, -10), alice));
    expect(error.reason).toBe('integrity');
  });

  it('refuses a ciphertext made under another local key', async () => {
    const other = createLocalCipher(randomBytes(32));
    const error = await decryptError(cipher.decrypt(await other.encrypt(canary(), alice), alice));
    expect(error.reason).toBe('integrity');
  });

  it.each([
    ['plain text', 'not-encrypted-token'],
    ['wrong prefix', `tv9.${Buffer.from('x').toString('base64url')}`],
    ['non-base64url body', `${FORMAT_VERSION}abc+/==`],
    ['oversized', `${FORMAT_VERSION}${'A'.repeat(70_000)}`],
  ])('refuses %s as a format error', async (_label, value) => {
    const error = await decryptError(cipher.decrypt(value, alice));
    expect(error.reason).toBe('format');
    expect(error.message).not.toContain(value.slice(0, 12));
  });

  it('rejects a key that is not 32 bytes', () => {
    expect(() => createLocalCipher(randomBytes(16))).toThrow(ConfigError);
  });
});
