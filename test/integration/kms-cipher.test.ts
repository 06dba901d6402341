/**
 * The KMS token cipher against a real moto_server with the real SDK v3 KMS client. KMS calls are counted by
 * an SDK middleware on the client we pass in (no mocks).
 */
import { createServer } from 'node:net';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import {
  createKmsCipher,
  DecryptionError,
  EncryptionError,
  FORMAT_VERSION,
} from '../../functions/adapters/crypto/index.js';
import { ConfigError } from '../../functions/core/errors.js';
import type { EncryptionContext } from '../../functions/core/ports.js';
import { decodedParts, tamperings } from '../support/ciphertext.js';
import { canary, errorText, rejectionOf } from '../support/leaks.js';
import { countCommands, type Moto, startMoto } from '../support/moto.js';

const alice: EncryptionContext = { integration: 'genesys-eu', subject: 'alice', kind: 'refresh_token' };

/** An endpoint on a loopback port that was free a moment ago and now has no listener. */
async function closedEndpoint(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}`;
}

let moto: Moto;
let admin: KMSClient;
let keyArn: string;
const clients: KMSClient[] = [];

async function createKey(): Promise<string> {
  const { KeyMetadata } = await admin.send(new CreateKeyCommand({ Description: 'tokenvend test key' }));
  return KeyMetadata!.Arn!;
}

/** A fresh cipher (a new Lambda container) with its own counted KMS client. */
function newContainer(keyId = keyArn, cache?: Parameters<typeof createKmsCipher>[0]['cache']) {
  const kms = moto.client(KMSClient);
  clients.push(kms);
  const calls = countCommands(kms);
  return { cipher: createKmsCipher({ keyId, kms, ...(cache ? { cache } : {}) }), calls };
}

beforeAll(async () => {
  moto = await startMoto();
  admin = moto.client(KMSClient);
  keyArn = await createKey();
});

afterAll(async () => {
  for (const client of [admin, ...clients]) client?.destroy();
  await moto?.close();
});

describe('createKmsCipher (moto)', () => {
  it('round-trips across containers and the stored value shows no plaintext', async () => {
    const writer = newContainer();
    const reader = newContainer();
    const token = canary();
    const stored = await writer.cipher.encrypt(token, alice);
    expect(stored.startsWith(`${FORMAT_VERSION}.kms.`)).toBe(true);
    expect(stored).not.toContain(token);
    expect(decodedParts(stored)).not.toContain(token);
    await expect(reader.cipher.decrypt(stored, alice)).resolves.toBe(token);
    expect(Object.fromEntries(writer.calls)).toEqual({ GenerateDataKeyCommand: 1 });
    expect(Object.fromEntries(reader.calls)).toEqual({ DecryptCommand: 1 });
  });

  it('a warm decrypt makes no KMS call', async () => {
    const writer = newContainer();
    const reader = newContainer();
    const token = canary();
    const stored = await writer.cipher.encrypt(token, alice);
    await reader.cipher.decrypt(stored, alice);
    expect(reader.calls.get('DecryptCommand')).toBe(1);
    for (let i = 0; i < 20; i++) await expect(reader.cipher.decrypt(stored, alice)).resolves.toBe(token);
    expect(Object.fromEntries(reader.calls)).toEqual({ DecryptCommand: 1 });
  });

  it('concurrent cold decrypts of one row share a single KMS call', async () => {
    const stored = await newContainer().cipher.encrypt(canary(), alice);
    const reader = newContainer();
    await Promise.all(Array.from({ length: 25 }, () => reader.cipher.decrypt(stored, alice)));
    expect(reader.calls.get('DecryptCommand')).toBe(1);
  });

  it('repeated encrypts under one context reuse the data key; another context gets its own', async () => {
    const writer = newContainer();
    for (let i = 0; i < 5; i++) await writer.cipher.encrypt(canary(), alice);
    expect(writer.calls.get('GenerateDataKeyCommand')).toBe(1);
    await writer.cipher.encrypt(canary(), { ...alice, subject: 'bob' });
    expect(writer.calls.get('GenerateDataKeyCommand')).toBe(2);
  });

  it('retires a data key after maxMessagesEncrypted', async () => {
    const writer = newContainer(keyArn, { maxMessagesEncrypted: 3 });
    for (let i = 0; i < 7; i++) await writer.cipher.encrypt(canary(), alice);
    expect(writer.calls.get('GenerateDataKeyCommand')).toBe(3);
  });

  it('a reader asks KMS once per data key, not once per message', async () => {
    const writer = newContainer();
    const tokens = [canary(), canary(), canary()];
    const rows: string[] = [];
    for (const token of tokens) rows.push(await writer.cipher.encrypt(token, alice));
    const reader = newContainer();
    for (const [i, row] of rows.entries())
      await expect(reader.cipher.decrypt(row, alice)).resolves.toBe(tokens[i]);
    expect(reader.calls.get('DecryptCommand')).toBe(1);
  });

  it('asks KMS again once a cached key is older than maxAgeSeconds', async () => {
    const stored = await newContainer().cipher.encrypt(canary(), alice);
    const reader = newContainer(keyArn, { maxAgeSeconds: 0.05 });
    await reader.cipher.decrypt(stored, alice);
    await new Promise((resolve) => setTimeout(resolve, 120));
    await reader.cipher.decrypt(stored, alice);
    expect(reader.calls.get('DecryptCommand')).toBe(2);
  });

  it.each([
    ['integration', { ...alice, integration: 'ringcentral' }],
    ['subject', { ...alice, subject: 'mallory' }],
    ['kind', { ...alice, kind: 'access_token' as const }],
  ])('refuses a ciphertext read under another %s', async (_field, other) => {
    const { cipher } = newContainer();
    const token = canary();
    const stored = await cipher.encrypt(token, alice);
    const error = await rejectionOf(cipher.decrypt(stored, other));
    expect(error).toBeInstanceOf(DecryptionError);
    expect((error as DecryptionError).reason).toBe('integrity');
    expect(errorText(error)).not.toContain(token);
  });

  it('refuses two rows whose ciphertexts were swapped, in a cold and in a warm container', async () => {
    const writer = newContainer();
    const bob: EncryptionContext = { ...alice, subject: 'bob' };
    const aliceRow = await writer.cipher.encrypt(canary(), alice);
    const bobRow = await writer.cipher.encrypt(canary(), bob);
    const warm = newContainer();
    await warm.cipher.decrypt(aliceRow, alice);
    await warm.cipher.decrypt(bobRow, bob);
    for (const { cipher } of [newContainer(), warm]) {
      await expect(cipher.decrypt(bobRow, alice)).rejects.toBeInstanceOf(DecryptionError);
      await expect(cipher.decrypt(aliceRow, bob)).rejects.toBeInstanceOf(DecryptionError);
    }
  });

  it('refuses every one-bit tampering (wrapped key, IV, body, tag) as integrity, not as an outage', async () => {
    const token = canary();
    const stored = await newContainer().cipher.encrypt(token, alice);
    for (const [where, tampered] of tamperings(stored)) {
      const error = await rejectionOf(newContainer().cipher.decrypt(tampered, alice));
      expect([where, error]).toEqual([where, expect.any(DecryptionError)]);
      // A flipped wrapped key: real KMS answers InvalidCiphertextException (-> integrity); moto 5.2 answers
      // AccessDeniedException, which in AWS means an IAM/key-policy denial and is rightly reported as 'kms'.
      const expected = where.startsWith('wrapped key') ? ['integrity', 'kms'] : ['integrity'];
      expect([where, expected.includes((error as DecryptionError).reason)]).toEqual([where, true]);
      expect(errorText(error)).not.toContain(token);
      for (const part of tampered.split('.').slice(2)) expect(errorText(error)).not.toContain(part);
    }
  });

  it('refuses a ciphertext whose data key was wrapped under another KMS key', async () => {
    const otherKey = await createKey();
    const stored = await newContainer(otherKey).cipher.encrypt(canary(), alice);
    const error = await rejectionOf(newContainer().cipher.decrypt(stored, alice));
    expect(error).toBeInstanceOf(DecryptionError);
    // Real KMS: IncorrectKeyException (-> integrity); moto 5.2: AccessDeniedException (-> kms).
    expect(['integrity', 'kms']).toContain((error as DecryptionError).reason);
  });

  it('reports KMS unreachable on decrypt as reason "kms" without data', async () => {
    const token = canary();
    const stored = await newContainer().cipher.encrypt(token, alice);
    const unreachable = new KMSClient({ ...moto.clientConfig, endpoint: await closedEndpoint() });
    clients.push(unreachable);
    const error = await rejectionOf(
      createKmsCipher({ keyId: keyArn, kms: unreachable }).decrypt(stored, alice),
    );
    expect(error).toBeInstanceOf(DecryptionError);
    expect((error as DecryptionError).reason).toBe('kms');
    expect(errorText(error)).not.toContain(token);
    for (const part of stored.split('.').slice(2)) expect(errorText(error)).not.toContain(part);
  });

  it('reports a KMS refusal on encrypt (unknown key) as EncryptionError without data, and retries later', async () => {
    const token = canary();
    const missingKey = keyArn.replace(/key\/.*$/, `key/${crypto.randomUUID()}`);
    const { cipher, calls } = newContainer(missingKey);
    const error = await rejectionOf(cipher.encrypt(token, alice));
    expect(error).toBeInstanceOf(EncryptionError);
    expect((error as EncryptionError).cause).toMatchObject({ name: 'NotFoundException' });
    expect(errorText(error)).not.toContain(token);
    // A failed data-key load is not cached.
    await rejectionOf(cipher.encrypt(token, alice));
    expect(calls.get('GenerateDataKeyCommand')).toBe(2);
  });

  it('needs a key id', () => {
    expect(() => createKmsCipher({ keyId: '' })).toThrow(ConfigError);
  });
});
