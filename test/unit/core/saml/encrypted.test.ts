/**
 * Encrypted assertions: with the SP encryption key (`saml_encryption_key`), an EncryptedAssertion is decrypted
 * (node-saml) and the plaintext Response goes through every check a plaintext one does (checklist 12-25 stay
 * true inside the ciphertext: signature by the pinned certificate, algorithms, markup, structure, replay).
 * What is forwarded is the decrypted form (the vendor has no key of ours). Undecryptable -> refused, one check
 * (`decryption`) whatever failed.
 */
import { SignedXml } from 'xml-crypto';
import type { SamlIntegrationConfig } from '../../../../functions/core/saml/config.js';
import { SamlValidationError } from '../../../../functions/core/saml/errors.js';
import { validateSamlResponse } from '../../../../functions/core/saml/validate.js';
import { MemoryAssertionReplayGuard } from '../../../support/memory-replay-guard.js';
import {
  type EncryptionOptions,
  generateSigningKey,
  newId,
  type SamlResponseOptions,
  TestIdp,
  type TestSigningKey,
} from '../../../support/saml-idp.js';

const ISSUER = 'https://idp.corp.example/saml/metadata';
const SP = 'urn:tokenvend:genesys-eu';
const ACS = 'https://tokens.example.com/saml/genesys-eu/acs';
const T = new Date('2026-03-02T10:00:00.000Z');

let idpKey: TestSigningKey;
let spEncryption: TestSigningKey;
let otherSp: TestSigningKey;
let attacker: TestSigningKey;
let idp: TestIdp;
let config: SamlIntegrationConfig;

beforeAll(() => {
  idpKey = generateSigningKey('corp-idp');
  spEncryption = generateSigningKey('tokenvend-sp-encryption');
  otherSp = generateSigningKey('another-sp');
  attacker = generateSigningKey('attacker');
  idp = new TestIdp({ key: idpKey, issuer: ISSUER, audience: SP, acsUrl: ACS });
  config = { idpCert: idpKey.cert, idpIssuer: ISSUER, spEntityId: SP, acsUrl: ACS };
});

function encrypted(o: Partial<SamlResponseOptions & EncryptionOptions> = {}) {
  return idp.buildEncryptedResponse({ now: T, to: spEncryption, ...o });
}

async function validate(posted: string, key: string | undefined) {
  const replay = new MemoryAssertionReplayGuard();
  const outcome = await validateSamlResponse(posted, config, {
    now: T,
    replay,
    integration: 'genesys-eu',
    decryptionKey: key,
  }).then(
    (result) => ({ result, error: undefined }),
    (error: unknown) => ({ result: undefined, error }),
  );
  return { ...outcome, replay };
}

async function expectRefused(posted: string, check: SamlValidationError['check'], key?: string | null) {
  const { error, replay } = await validate(
    posted,
    key === null ? undefined : (key ?? spEncryption.privateKey),
  );
  expect(error).toBeInstanceOf(SamlValidationError);
  expect(error).toMatchObject({ check, status: 400 });
  expect((error as Error).cause).toBeUndefined();
  expect(replay.claims).toEqual([]);
}

describe('encrypted assertions', () => {
  it.each([
    ['AES-256-GCM', 'http://www.w3.org/2009/xmlenc11#aes256-gcm'],
    ['AES-128-GCM', 'http://www.w3.org/2009/xmlenc11#aes128-gcm'],
    ['AES-256-CBC', 'http://www.w3.org/2001/04/xmlenc#aes256-cbc'],
  ] as const)(
    'decrypts (RSA-OAEP + %s), validates the signed assertion, forwards the plaintext',
    async (_n, data) => {
      const assertionId = newId();
      const posted = await encrypted({
        dataAlgorithm: data,
        assertionId,
        attributes: { upn: ['alice@corp.com'] },
      });
      expect(Buffer.from(posted, 'base64').toString()).toContain('EncryptedAssertion');
      expect(Buffer.from(posted, 'base64').toString()).not.toContain('alice@corp.com');
      const { result, replay } = await validate(posted, spEncryption.privateKey);
      expect(result).toMatchObject({ subject: 'alice@corp.com', assertionId, encrypted: true });
      expect(result?.attributes).toEqual({ upn: ['alice@corp.com'] });
      expect(replay.claims).toHaveLength(1);
      // Forwarded: the signed Assertion, still verifiable with the IdP certificate (RFC 7522 formats) ...
      const xml = result!.assertionXml;
      const verifier = new SignedXml({ publicCert: idpKey.cert });
      verifier.loadSignature(/<ds:Signature[\s\S]*<\/ds:Signature>/.exec(xml)![0]);
      expect(verifier.checkSignature(xml)).toBe(true);
      // ... and the Response with the assertion in plaintext, no EncryptedAssertion (Genesys's response-base64).
      const response = Buffer.from(result!.samlResponse, 'base64').toString();
      expect(response).toMatch(/^<samlp:Response /);
      expect(response).not.toContain('EncryptedAssertion');
      expect(response).toContain(`ID="${assertionId}"`);
    },
  );

  it('a signed Response around the encrypted assertion: its signature (over the ciphertext) is dropped, the assertion signature still required', async () => {
    const { result } = await validate(await encrypted({ signResponse: true }), spEncryption.privateKey);
    const response = Buffer.from(result!.samlResponse, 'base64').toString();
    expect(response.match(/<ds:Signature[ >]/g)).toHaveLength(1);
    await expectRefused(await encrypted({ signResponse: true, signAssertion: false }), 'signature');
  });

  it('undecryptable -> refused: no SP key configured, or encrypted to another SP', async () => {
    await expectRefused(await encrypted(), 'decryption', null);
    await expectRefused(await encrypted({ to: otherSp }), 'decryption');
    await expectRefused(await encrypted(), 'decryption', otherSp.privateKey);
  });

  it('refuses RSA PKCS#1 v1.5 key transport and a tampered ciphertext with the same words', async () => {
    const v15 = await encrypted({ keyAlgorithm: 'http://www.w3.org/2001/04/xmlenc#rsa-1_5' });
    await expectRefused(v15, 'decryption');
    const tampered = await encrypted({
      dataAlgorithm: 'http://www.w3.org/2001/04/xmlenc#aes256-cbc',
      mutate: (xml) =>
        xml.replace(
          /(<xenc:CipherValue>[^<]{40})([^<]{8})/,
          (_m, head: string, tail: string) => `${head}${tail === 'AAAAAAAA' ? 'BBBBBBBB' : 'AAAAAAAA'}`,
        ),
    });
    await expectRefused(tampered, 'decryption');
    const first = await validate(v15, spEncryption.privateKey);
    const second = await validate(tampered, spEncryption.privateKey);
    expect((first.error as Error).message).toBe((second.error as Error).message);
  });

  it('checklist 12-25 inside the ciphertext: unsigned, another key, SHA-1, a comment, audience, expiry, XSW', async () => {
    await expectRefused(await encrypted({ signAssertion: false }), 'signature');
    await expectRefused(await encrypted({ signer: attacker, keyInfoCert: attacker }), 'signature');
    await expectRefused(await encrypted({ algorithm: 'rsa-sha1' }), 'signature_algorithm');
    await expectRefused(
      await encrypted({ nameIdXml: 'alice@corp.com<!---->.evil.com', withComments: true }),
      'markup',
    );
    await expectRefused(await encrypted({ audience: 'urn:someone-else' }), 'audience');
    await expectRefused(await encrypted({ now: new Date(T.getTime() - 3_600_000) }), 'time_window');
    // XSW inside the ciphertext: the signed assertion carried in the evil one's ds:Object.
    await expectRefused(await encrypted({ wrap: 'signature-object' }), 'structure');
  });

  it('a replayed encrypted response is refused (checklist 20)', async () => {
    const posted = await encrypted();
    const replay = new MemoryAssertionReplayGuard();
    const options = { now: T, replay, integration: 'genesys-eu', decryptionKey: spEncryption.privateKey };
    await validateSamlResponse(posted, config, options);
    await expect(validateSamlResponse(posted, config, options)).rejects.toMatchObject({ check: 'replay' });
  });

  it('an EncryptedAssertion next to a plaintext Assertion is a structure refusal, nothing decrypted', async () => {
    const posted = await encrypted({
      mutate: (xml) => xml.replace('</samlp:Response>', '<saml:Assertion ID="_x"/></samlp:Response>'),
    });
    await expectRefused(posted, 'structure');
  });
});
