import { InvalidClientError, VendorRejectedError } from '../../../../functions/core/errors.js';
import { withClientSecret } from '../../../../functions/core/flows/client-secret.js';
import type { ClientSecret } from '../../../../functions/core/oauth/client-auth.js';
import type { SecretSource } from '../../../../functions/core/ports.js';

/** A secret source whose stored secret was rotated: the cached read is stale until asked with refresh. */
function rotatedSource(): SecretSource & { reads: string[] } {
  const reads: string[] = [];
  return {
    reads,
    async getClientSecret(_integration, options) {
      reads.push(options?.refresh ? 'refresh' : 'cached');
      return { client_id: 'c', client_secret: options?.refresh ? 'new' : 'old' };
    },
  };
}

const invalidClient = () =>
  new InvalidClientError('rejected', { error: 'server_error', status: 502, vendorError: 'invalid_client' });

describe('withClientSecret', () => {
  it('re-reads the secret once past the cache after invalid_client and retries', async () => {
    const secrets = rotatedSource();
    const used: string[] = [];
    const result = await withClientSecret(secrets, 'acme', async (client: ClientSecret) => {
      used.push(client.client_secret as string);
      if (client.client_secret === 'old') throw invalidClient();
      return 'token';
    });
    expect(result).toBe('token');
    expect(used).toEqual(['old', 'new']);
    expect(secrets.reads).toEqual(['cached', 'refresh']);
  });

  it('gives up after the second invalid_client', async () => {
    const secrets = rotatedSource();
    let calls = 0;
    await expect(
      withClientSecret(secrets, 'acme', async () => {
        calls++;
        throw invalidClient();
      }),
    ).rejects.toBeInstanceOf(InvalidClientError);
    expect(calls).toBe(2);
  });

  it('does not retry other vendor errors', async () => {
    const secrets = rotatedSource();
    let calls = 0;
    await expect(
      withClientSecret(secrets, 'acme', async () => {
        calls++;
        throw new VendorRejectedError('no', { error: 'server_error', status: 502 });
      }),
    ).rejects.toBeInstanceOf(VendorRejectedError);
    expect(calls).toBe(1);
    expect(secrets.reads).toEqual(['cached']);
  });
});
