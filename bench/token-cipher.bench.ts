/**
 * What token encryption at rest costs on the vend path: a warm decrypt (data key cached, no KMS call) must be
 * tiny next to the DynamoDB GetItem it follows (~1-3 ms). KMS is moto_server with the real SDK client, so
 * the cold figure is a loopback round trip, not real KMS latency (~5-15 ms in-region).
 */
import { randomBytes } from 'node:crypto';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { createKmsCipher, createLocalCipher } from '../functions/adapters/crypto/index.js';
import type { EncryptionContext } from '../functions/core/ports.js';
import { countCommands, startMoto } from '../test/support/moto.js';
import { type Figure, measure } from './lib.js';

export default async function (): Promise<Figure[]> {
  const moto = await startMoto();
  try {
    const admin = moto.client(KMSClient);
    const { KeyMetadata } = await admin.send(new CreateKeyCommand({}));
    const kms = moto.client(KMSClient);
    const calls = countCommands(kms);
    const cipher = createKmsCipher({ keyId: KeyMetadata!.Arn!, kms });
    const local = createLocalCipher(randomBytes(32));
    const context: EncryptionContext = { integration: 'bench', subject: 'user-1', kind: 'access_token' };
    // About the size of a vendor JWT access token.
    const token = randomBytes(900).toString('base64url');
    const stored = await cipher.encrypt(token, context);
    const storedLocal = await local.encrypt(token, context);

    let subject = 0;
    const cold = await measure(
      // A new context per run defeats the cache: GenerateDataKey + Decrypt against moto each time.
      async () => {
        const ctx = { ...context, subject: `cold-${subject++}` };
        await cipher.decrypt(await cipher.encrypt(token, ctx), ctx);
      },
      { warmup: 5, iterations: 50 },
    );
    await cipher.decrypt(stored, context); // the one cold miss
    const before = (calls.get('DecryptCommand') ?? 0) + (calls.get('GenerateDataKeyCommand') ?? 0);
    const warmDecrypt = await measure(() => cipher.decrypt(stored, context), { iterations: 2000 });
    const after = (calls.get('DecryptCommand') ?? 0) + (calls.get('GenerateDataKeyCommand') ?? 0);
    const warmEncrypt = await measure(() => cipher.encrypt(token, context), { iterations: 2000 });
    const localDecrypt = await measure(() => local.decrypt(storedLocal, context), { iterations: 2000 });
    admin.destroy();
    kms.destroy();
    return [
      { name: 'cipher_warm_decrypt_p50', value: warmDecrypt.p50 * 1000, unit: 'us' },
      { name: 'cipher_warm_decrypt_p99', value: warmDecrypt.p99 * 1000, unit: 'us' },
      { name: 'cipher_warm_encrypt_p50', value: warmEncrypt.p50 * 1000, unit: 'us' },
      { name: 'cipher_local_decrypt_p50', value: localDecrypt.p50 * 1000, unit: 'us' },
      { name: 'cipher_cold_encrypt_decrypt_moto_p50', value: cold.p50 * 1000, unit: 'us' },
      { name: 'cipher_warm_decrypt_kms_calls', value: after - before, unit: 'calls' },
      { name: 'cipher_stored_length', value: stored.length, unit: 'chars' },
      { name: 'cipher_token_length', value: token.length, unit: 'chars' },
    ];
  } finally {
    await moto.close();
  }
}
