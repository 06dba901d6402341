/**
 * SecretsManagerSecretSource against a real moto_server with the real SDK v3 client; calls counted with an
 * SDK middleware. Every secret value is a fresh canary that must never appear in an error.
 */
import {
  CreateSecretCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import {
  LocalSecretSource,
  SecretError,
  SecretsManagerSecretSource,
} from '../../functions/adapters/secrets/index.js';
import { canary, errorText, rejectionOf } from '../support/leaks.js';
import { countCommands, type Moto, startMoto } from '../support/moto.js';

let moto: Moto;
let admin: SecretsManagerClient;
const clients: SecretsManagerClient[] = [];
let seq = 0;

/** Creates a secret with a unique name holding `value` (a string is stored as-is). */
async function createSecret(value: unknown): Promise<string> {
  const name = `tokenvend/test/${++seq}-${crypto.randomUUID()}`;
  await admin.send(
    new CreateSecretCommand({
      Name: name,
      SecretString: typeof value === 'string' ? value : JSON.stringify(value),
    }),
  );
  return name;
}

/** A source (one Lambda container) over a counted client, with a controllable clock. */
function newSource(secretIds: Record<string, string>, ttlSeconds?: number) {
  const client = moto.client(SecretsManagerClient);
  clients.push(client);
  const calls = countCommands(client);
  const clock = { now: 1_000_000 };
  const source = new SecretsManagerSecretSource({
    client,
    secretIds,
    now: () => clock.now,
    ...(ttlSeconds === undefined ? {} : { ttlSeconds }),
  });
  return { source, calls, clock, reads: () => calls.get('GetSecretValueCommand') ?? 0 };
}

beforeAll(async () => {
  moto = await startMoto();
  admin = moto.client(SecretsManagerClient);
});

afterAll(async () => {
  for (const client of [admin, ...clients]) client?.destroy();
  await moto?.close();
});

describe('SecretsManagerSecretSource (moto)', () => {
  it('reads the AWSCURRENT JSON, with extras, and serves repeats from the cache', async () => {
    const secret = { client_id: 'genesys-client', client_secret: canary('secret'), org_name: 'acme' };
    const id = await createSecret(secret);
    const { source, reads, calls } = newSource({ 'genesys-eu': id });
    await expect(source.getClientSecret('genesys-eu')).resolves.toEqual(secret);
    await expect(source.getClientSecret('genesys-eu')).resolves.toEqual(secret);
    expect(reads()).toBe(1);
    expect([...calls.keys()]).toEqual(['GetSecretValueCommand']);
  });

  it('accepts a public client (no client_secret)', async () => {
    const id = await createSecret({ client_id: 'pkce-client' });
    const { source } = newSource({ rc: id });
    await expect(source.getClientSecret('rc')).resolves.toEqual({ client_id: 'pkce-client' });
  });

  it('re-reads after the TTL, not before', async () => {
    const id = await createSecret({ client_id: 'c', client_secret: canary() });
    const { source, reads, clock } = newSource({ a: id }, 60);
    await source.getClientSecret('a');
    clock.now += 59_000;
    await source.getClientSecret('a');
    expect(reads()).toBe(1);
    clock.now += 2_000;
    await source.getClientSecret('a');
    expect(reads()).toBe(2);
  });

  it('sees a rotated secret (new AWSCURRENT version) after refresh: true, once', async () => {
    const first = { client_id: 'c', client_secret: canary('v1') };
    const second = { client_id: 'c', client_secret: canary('v2') };
    const id = await createSecret(first);
    const { source, reads } = newSource({ a: id });
    await expect(source.getClientSecret('a')).resolves.toEqual(first);
    await admin.send(new PutSecretValueCommand({ SecretId: id, SecretString: JSON.stringify(second) }));
    // Within the TTL the cache still answers with the old value...
    await expect(source.getClientSecret('a')).resolves.toEqual(first);
    expect(reads()).toBe(1);
    // ...until the caller saw invalid_client and asks for a refresh.
    await expect(source.getClientSecret('a', { refresh: true })).resolves.toEqual(second);
    expect(reads()).toBe(2);
    // The refreshed value is cached again.
    await expect(source.getClientSecret('a')).resolves.toEqual(second);
    expect(reads()).toBe(2);
  });

  it('concurrent callers share one in-flight read, refreshing or not', async () => {
    const id = await createSecret({ client_id: 'c', client_secret: canary() });
    const { source, reads } = newSource({ a: id });
    await Promise.all(Array.from({ length: 20 }, () => source.getClientSecret('a')));
    expect(reads()).toBe(1);
    await Promise.all(Array.from({ length: 20 }, () => source.getClientSecret('a', { refresh: true })));
    expect(reads()).toBe(2);
  });

  it('keeps integrations apart', async () => {
    const a = { client_id: 'a', client_secret: canary() };
    const b = { client_id: 'b', client_secret: canary() };
    const { source } = newSource({ a: await createSecret(a), b: await createSecret(b) });
    await expect(source.getClientSecret('a')).resolves.toEqual(a);
    await expect(source.getClientSecret('b')).resolves.toEqual(b);
  });

  it('resolves secret ids with a function', async () => {
    const secret = { client_id: 'fn', client_secret: canary() };
    const id = await createSecret(secret);
    const client = moto.client(SecretsManagerClient);
    clients.push(client);
    const source = new SecretsManagerSecretSource({
      client,
      secretIds: (integration) => (integration === 'x' ? id : undefined),
    });
    await expect(source.getClientSecret('x')).resolves.toEqual(secret);
    await expect(source.getClientSecret('y')).rejects.toBeInstanceOf(SecretError);
  });

  describe('failures are SecretErrors that name the problem, never a value', () => {
    async function failure(integration: string, secretIds: Record<string, string>, values: string[]) {
      const { source } = newSource(secretIds);
      const error = await rejectionOf(source.getClientSecret(integration));
      expect(error).toBeInstanceOf(SecretError);
      expect((error as SecretError).integration).toBe(integration);
      expect((error as SecretError).status).toBe(500);
      const text = errorText(error);
      for (const value of values) expect(text).not.toContain(value);
      return error as SecretError;
    }

    it('unknown integration', async () => {
      const error = await failure('nope', {}, []);
      expect(error.problem).toMatch(/no secret id/);
    });

    it('missing secret', async () => {
      const error = await failure('a', { a: 'tokenvend/does-not-exist' }, []);
      expect(error.problem).toMatch(/not found/);
      expect(error.cause).toMatchObject({ name: 'ResourceNotFoundException' });
    });

    it('SecretString that is not JSON', async () => {
      const value = canary('notjson');
      const error = await failure('a', { a: await createSecret(`{"client_id": ${value}`) }, [value]);
      expect(error.problem).toMatch(/not JSON/);
      expect(error.cause).toBeUndefined();
    });

    it('missing client_id', async () => {
      const value = canary();
      const error = await failure('a', { a: await createSecret({ client_secret: value }) }, [value]);
      expect(error.problem).toMatch(/client_id: expected string/);
    });

    it('wrong types and empty values', async () => {
      const value = canary();
      const id = await createSecret({ client_id: '', client_secret: value, extra: 987654321, other: value });
      const error = await failure('a', { a: id }, [value, '987654321']);
      expect(error.problem).toMatch(/client_id: must not be empty/);
      expect(error.problem).toMatch(/extra: expected string/);
    });

    it('JSON that is not an object', async () => {
      const value = canary();
      const error = await failure('a', { a: await createSecret(JSON.stringify(value)) }, [value]);
      expect(error.problem).toMatch(/\$: expected object/);
    });

    it('Secrets Manager unreachable', async () => {
      const client = new SecretsManagerClient({ ...moto.clientConfig, endpoint: 'http://127.0.0.1:9' });
      clients.push(client);
      const source = new SecretsManagerSecretSource({ client, secretIds: { a: 'x' } });
      const error = await rejectionOf(source.getClientSecret('a'));
      expect(error).toBeInstanceOf(SecretError);
      expect((error as SecretError).problem).toMatch(/cannot read secret x/);
    });

    it('a failed read is not cached', async () => {
      const { source, reads } = newSource({ a: 'tokenvend/missing-then-created' });
      await rejectionOf(source.getClientSecret('a'));
      await admin.send(
        new CreateSecretCommand({
          Name: 'tokenvend/missing-then-created',
          SecretString: '{"client_id":"late"}',
        }),
      );
      await expect(source.getClientSecret('a')).resolves.toEqual({ client_id: 'late' });
      expect(reads()).toBe(2);
    });
  });
});

describe('LocalSecretSource', () => {
  it('serves the local config secrets and validates them up front', async () => {
    const secret = { client_id: 'local', client_secret: canary() };
    const source = LocalSecretSource.fromIntegrations({ a: { secret }, b: {} });
    await expect(source.getClientSecret('a')).resolves.toEqual(secret);
    await expect(source.getClientSecret('a', { refresh: true })).resolves.toEqual(secret);
    const missing = await rejectionOf(source.getClientSecret('b'));
    expect(missing).toBeInstanceOf(SecretError);
  });

  it('refuses an invalid local secret without echoing it', () => {
    const value = canary();
    let error: unknown;
    try {
      new LocalSecretSource({ a: { client_secret: value } });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(SecretError);
    expect(errorText(error)).not.toContain(value);
    expect((error as SecretError).problem).toMatch(/client_id/);
  });
});
