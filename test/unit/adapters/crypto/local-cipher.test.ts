import { randomBytes } from 'node:crypto';
import {
  createLocalCipher,
  DecryptionError,
  FORMAT_VERSION,
} from '../../../../functions/adapters/crypto/index.js';
import { ConfigError } from '../../../../functions/core/errors.js';
import type { EncryptionContext } from '../../../../functions/core/ports.js';
import { decodedParts, tamperings } from '../../../support/ciphertext.js';
import { canary, errorText, rejectionOf } from '../../../support/leaks.js';

const alice: EncryptionContext = { integration: 'genesys-eu', subject: 'alice', kind: 'access_token' };

async function decryptError(promise: Promise<unknown>): Promise<DecryptionError> {
  const error = await rejectionOf(promise);
  expect(error).toBeInstanceOf(DecryptionError);
  return error as DecryptionError;
}

describe('createLocalCipher', () => {
  const key = randomBytes(32);
  const cipher = createLocalCipher(key);

  it('round-trips a token and never stores it in clear', async () => {
    const token = canary();
    const stored = await cipher.encrypt(token, alice);
    expect(stored.startsWith(`${FORMAT_VERSION}.local.`)).toBe(true);
    expect(stored).not.toContain(token);
    expect(decodedParts(stored)).not.toContain(token);
    await expect(cipher.decrypt(stored, alice)).resolves.toBe(token);
  });

  it('round-trips unicode, one character and large tokens', async () => {
    for (const token of ['x', 'ünïcødé-🔑', 'a'.repeat(8000)]) {
      await expect(cipher.decrypt(await cipher.encrypt(token, alice), alice)).resolves.toBe(token);
    }
  });

  it('never produces the same ciphertext twice (fresh IV)', async () => {
    const token = canary();
    const a = await cipher.encrypt(token, alice);
    const b = await cipher.encrypt(token, alice);
    expect(a).not.toBe(b);
    expect(a.split('.')[3]).not.toBe(b.split('.')[3]);
  });

  it.each([
    ['integration', { ...alice, integration: 'ringcentral' }],
    ['subject', { ...alice, subject: 'bob' }],
    ['kind', { ...alice, kind: 'refresh_token' as const }],
  ])('refuses a ciphertext read under another %s', async (_field, other) => {
    const token = canary();
    const stored = await cipher.encrypt(token, alice);
    const error = await decryptError(cipher.decrypt(stored, other));
    expect(error.reason).toBe('integrity');
    expect(error.status).toBe(500);
    expect(errorText(error)).not.toContain(token);
    for (const part of stored.split('.').slice(2)) expect(errorText(error)).not.toContain(part);
  });

  it('refuses swapped ciphertexts of two real rows, also when the keys are cached', async () => {
    const bob: EncryptionContext = { ...alice, subject: 'bob' };
    const aliceToken = canary();
    const aliceRow = await cipher.encrypt(aliceToken, alice);
    const bobRow = await cipher.encrypt(canary(), bob);
    // Warm both decrypt caches first.
    await expect(cipher.decrypt(aliceRow, alice)).resolves.toBe(aliceToken);
    await cipher.decrypt(bobRow, bob);
    await expect(cipher.decrypt(bobRow, alice)).rejects.toBeInstanceOf(DecryptionError);
    await expect(cipher.decrypt(aliceRow, bob)).rejects.toBeInstanceOf(DecryptionError);
  });

  it('refuses a ciphertext whose body is grafted onto another row’s wrapped key', async () => {
    // Two containers with the same master key hold different data keys for the same context.
    const rowA = (await cipher.encrypt(canary(), alice)).split('.');
    const rowB = (await createLocalCipher(key).encrypt(canary(), alice)).split('.');
    expect(rowA[2]).not.toBe(rowB[2]);
    const mixed = [...rowA.slice(0, 3), ...rowB.slice(3)].join('.');
    await expect(cipher.decrypt(mixed, alice)).rejects.toBeInstanceOf(DecryptionError);
  });

  it('refuses every one-bit tampering (wrapped key, IV, body, tag)', async () => {
    const token = canary();
    const stored = await cipher.encrypt(token, alice);
    await cipher.decrypt(stored, alice); // cached key: tampering must still fail
    for (const [, tampered] of tamperings(stored)) {
      const error = await decryptError(cipher.decrypt(tampered, alice));
      expect(error.reason).toBe('integrity');
      expect(errorText(error)).not.toContain(token);
    }
  });

  it('refuses a truncated ciphertext', async () => {
    const stored = await cipher.encrypt(canary(), alice);
    const error = await decryptError(cipher.decrypt(stored.slice(0, -4), alice));
    expect(error.reason).toBe('integrity');
  });

  it('refuses a ciphertext made under another local key', async () => {
    const other = createLocalCipher(randomBytes(32));
    const error = await decryptError(cipher.decrypt(await other.encrypt(canary(), alice), alice));
    expect(error.reason).toBe('integrity');
  });

  it.each([
    ['plain text', 'not-encrypted-token'],
    ['another version', 'tv9.local.AAAA.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA'],
    ['another key source', 'tv1.kms.AAAA.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA'],
    ['non-base64url segment', 'tv1.local.ab+/.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA'],
    ['empty segment', 'tv1.local..AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA'],
    ['short IV', 'tv1.local.AAAA.AAAA.AAAAAAAAAAAAAAAAAAAAAA'],
    ['oversized', `tv1.local.${'A'.repeat(70_000)}.A.A`],
  ])('refuses %s as a format error', async (_label, value) => {
    const error = await decryptError(cipher.decrypt(value, alice));
    expect(error.reason).toBe('format');
    expect(error.message).not.toContain('AAAA');
  });

  it('rejects a key that is not 32 bytes', () => {
    expect(() => createLocalCipher(randomBytes(16))).toThrow(ConfigError);
  });

  it('does not depend on the caller keeping its key buffer intact', async () => {
    const key = randomBytes(32);
    const own = createLocalCipher(key);
    const token = canary();
    const stored = await own.encrypt(token, alice);
    const twin = createLocalCipher(Buffer.from(key));
    key.fill(0);
    await expect(own.decrypt(stored, { ...alice })).resolves.toBe(token);
    await expect(twin.decrypt(stored, alice)).resolves.toBe(token);
  });
});
