/**
 * The KMS token cipher against a real moto_server with the real SDK v3 KMS client. KMS calls are counted by
 * an SDK middleware on the client we pass in.
 */
import { randomBytes } from 'node:crypto';
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
import { countCommands, type Moto, startMoto } from '../support/moto.js';

const alice: EncryptionContext = { integration: 'genesys-eu', subject: 'alice', kind: 'refresh_token' };

function canary(): string {
  return `canary-${randomBytes(24).toString('base64url')}`;
}

/** Every string an error exposes: message, name, stack, own properties, along the cause chain. */
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

async function caught(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (error: unknown) => error,
  );
}

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

async function createKey(): Promise<string> {
  const { KeyMetadata } = await admin.send(new CreateKeyCommand({ Description: 'tokenvend test key' }));
  return KeyMetadata!.Arn!;
}

/** A fresh cipher (a new container) with its own counted KMS client. */
function newContainer(keyId = keyArn) {
  const kms = moto.client(KMSClient);
  const calls = countCommands(kms);
  return { cipher: createKmsCipher({ keyId, kms }), calls, kms };
}

beforeAll(async () => {
  moto = await startMoto();
  admin = moto.client(KMSClient);
  keyArn = await createKey();
});

afterAll(async () => {
  admin?.destroy();
  await moto?.close();
});

describe('createKmsCipher (moto)', () => {
  it('round-trips across containers and the stored value shows no plaintext', async () => {
    const writer = newContainer();
    const reader = newContainer();
    const token = canary();
    const stored = await writer.cipher.encrypt(token, alice);
    expect(stored.startsWith(FORMAT_VERSION)).toBe(true);
    expect(stored).not.toContain(token);
    expect(Buffer.from(stored.slice(FORMAT_VERSION.length), 'base64url').toString('latin1')).not.toContain(
      token,
    );
    await expect(reader.cipher.decrypt(stored, alice)).resolves.toBe(token);
    expect(writer.calls.get('GenerateDataKeyCommand')).toBe(1);
    expect(reader.calls.get('DecryptCommand')).toBe(1);
  });

  it('a warm decrypt makes no KMS call', async () => {
    const writer = newContainer();
    const reader = newContainer();
    const token = canary();
    const stored = await writer.cipher.encrypt(token, alice);
    await reader.cipher.decrypt(stored, alice);
    const cold = reader.calls.get('DecryptCommand');
    for (let i = 0; i < 20; i++) await expect(reader.cipher.decrypt(stored, alice)).resolves.toBe(token);
    expect(cold).toBe(1);
    expect(reader.calls.get('DecryptCommand')).toBe(1);
    expect([...reader.calls.keys()]).toEqual(['DecryptCommand']);
  });

  it('repeated encrypts under one context reuse the data key; each new context gets its own', async () => {
    const writer = newContainer();
    for (let i = 0; i < 5; i++) await writer.cipher.encrypt(canary(), alice);
    expect(writer.calls.get('GenerateDataKeyCommand')).toBe(1);
    await writer.cipher.encrypt(canary(), { ...alice, subject: 'bob' });
    expect(writer.calls.get('GenerateDataKeyCommand')).toBe(2);
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

  it('without a cache hit after expiry, KMS is asked again', async () => {
    const kms = moto.client(KMSClient);
    const calls = countCommands(kms);
    const cipher = createKmsCipher({ keyId: keyArn, kms, cache: { maxAgeSeconds: 0.05, maxEntries: 10 } });
    const stored = await cipher.encrypt(canary(), alice);
    await new Promise((resolve) => setTimeout(resolve, 120));
    await cipher.decrypt(stored, alice);
    expect(calls.get('DecryptCommand')).toBe(1);
  });

  it.each([
    ['integration', { ...alice, integration: 'ringcentral' }],
    ['subject', { ...alice, subject: 'mallory' }],
    ['kind', { ...alice, kind: 'access_token' as const }],
  ])('refuses a ciphertext read under another %s', async (_field, other) => {
    const { cipher } = newContainer();
    const token = canary();
    const stored = await cipher.encrypt(token, alice);
    const error = await caught(cipher.decrypt(stored, other));
    expect(error).toBeInstanceOf(DecryptionError);
    expect((error as DecryptionError).reason).toBe('context');
    expect(errorText(error)).not.toContain(token);
  });

  it('refuses two rows whose ciphertexts were swapped, in a cold and a warm container', async () => {
    const writer = newContainer();
    const bob: EncryptionContext = { ...alice, subject: 'bob' };
    const aliceRow = await writer.cipher.encrypt(canary(), alice);
    const bobRow = await writer.cipher.encrypt(canary(), bob);
    for (const { cipher } of [newContainer(), writer]) {
      await expect(cipher.decrypt(bobRow, alice)).rejects.toBeInstanceOf(DecryptionError);
      await expect(cipher.decrypt(aliceRow, bob)).rejects.toBeInstanceOf(DecryptionError);
    }
  });

  it('refuses a tampered ciphertext (header, wrapped key, body, tag)', async () => {
    const writer = newContainer();
    const token = canary();
    const stored = await writer.cipher.encrypt(token, alice);
    const bytes = Buffer.from(stored.slice(FORMAT_VERSION.length), 'base64url');
    for (const index of [3, 120, Math.floor(bytes.length * 0.7), bytes.length - 1]) {
      const tampered = Buffer.from(bytes);
      tampered[index] = (tampered[index] ?? 0) ^ 0x80;
      const error = await caught(
        newContainer().cipher.decrypt(FORMAT_VERSION + tampered.toString('base64url'), alice),
      );
      expect(error).toBeInstanceOf(DecryptionError);
      // KMS's InvalidCiphertextException (flipped wrapped key) is a bad ciphertext, not an outage.
      expect((error as DecryptionError).reason).toBe('integrity');
      expect(errorText(error)).not.toContain(token);
      expect(errorText(error)).not.toContain(tampered.toString('base64url').slice(0, 32));
    }
  });

  it('refuses a ciphertext wrapped under another KMS key', async () => {
    const otherKey = await createKey();
    const stored = await newContainer(otherKey).cipher.encrypt(canary(), alice);
    const error = await caught(newContainer().cipher.decrypt(stored, alice));
    expect(error).toBeInstanceOf(DecryptionError);
    expect((error as DecryptionError).reason).toBe('integrity');
  });

  it('reports KMS unreachable on decrypt as reason "kms", not as a bad ciphertext', async () => {
    const token = canary();
    const stored = await newContainer().cipher.encrypt(token, alice);
    // A port nothing listens on: moto's own port once it is closed would do, this one never had a server.
    const unreachable = new KMSClient({ ...moto.clientConfig, endpoint: await closedEndpoint() });
    const error = await caught(createKmsCipher({ keyId: keyArn, kms: unreachable }).decrypt(stored, alice));
    unreachable.destroy();
    expect(error).toBeInstanceOf(DecryptionError);
    expect((error as DecryptionError).reason).toBe('kms');
    expect(errorText(error)).not.toContain(token);
    expect(errorText(error)).not.toContain(stored.slice(FORMAT_VERSION.length, FORMAT_VERSION.length + 32));
  });

  it('reports a KMS refusal on encrypt (unknown key) as EncryptionError without data', async () => {
    const token = canary();
    const missingKey = keyArn.replace(/key\/.*$/, `key/${crypto.randomUUID()}`);
    const error = await caught(newContainer(missingKey).cipher.encrypt(token, alice));
    expect(error).toBeInstanceOf(EncryptionError);
    expect((error as EncryptionError).cause).toMatchObject({ name: 'NotFoundException' });
    expect(errorText(error)).not.toContain(token);
  });

  it('needs a key ARN', () => {
    expect(() => createKmsCipher({ keyId: 'alias/tokenvend' })).toThrow(ConfigError);
  });
});
