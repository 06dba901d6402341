import { SignedXml } from 'xml-crypto';
import { ConfigError } from '../../../../functions/core/errors.js';
import { readSignedAssertion } from '../../../../functions/core/saml/assertion.js';
import { checkSamlConfig, type SamlIntegrationConfig } from '../../../../functions/core/saml/config.js';
import { SamlTooLargeError, SamlValidationError } from '../../../../functions/core/saml/errors.js';
import {
  MAX_SAML_RESPONSE_BYTES,
  type ValidateSamlOptions,
  validateSamlResponse,
} from '../../../../functions/core/saml/validate.js';
import { MemoryAssertionReplayGuard } from '../../../support/memory-replay-guard.js';
import {
  generateSigningKey,
  newId,
  type SamlResponseOptions,
  TestIdp,
  type TestSigningKey,
  type WrapAttack,
} from '../../../support/saml-idp.js';

const INTEGRATION = 'genesys-eu';
const ISSUER = 'https://idp.corp.example/saml/metadata';
const SP = 'urn:tokenvend:genesys-eu';
const ACS = 'https://tokens.example.com/saml/genesys-eu/acs';
const T = new Date('2026-03-02T10:00:00.000Z');
const at = (ms: number) => new Date(T.getTime() + ms);

let idpKey: TestSigningKey;
let attackerKey: TestSigningKey;
let idp: TestIdp;
let config: SamlIntegrationConfig;

beforeAll(() => {
  idpKey = generateSigningKey('corp-idp');
  attackerKey = generateSigningKey('attacker');
  idp = new TestIdp({ key: idpKey, issuer: ISSUER, audience: SP, acsUrl: ACS });
  config = { idpCert: idpKey.cert, idpIssuer: ISSUER, spEntityId: SP, acsUrl: ACS };
});

function options(replay: MemoryAssertionReplayGuard, extra: Partial<ValidateSamlOptions> = {}) {
  return { now: T, replay, integration: INTEGRATION, ...extra };
}

function build(o: Partial<SamlResponseOptions> = {}): string {
  return idp.buildResponse({ now: T, ...o });
}

/** Rejected with the typed error naming `check`, no value echoed, and no assertion ID burned. */
async function expectRejected(
  samlResponse: string,
  check: SamlValidationError['check'],
  extra: Partial<ValidateSamlOptions> = {},
  cfg: SamlIntegrationConfig = config,
): Promise<void> {
  const replay = new MemoryAssertionReplayGuard();
  const error = await validateSamlResponse(samlResponse, cfg, options(replay, extra)).catch(
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SamlValidationError);
  expect(error).toMatchObject({ check, status: 400, error: 'invalid_request' });
  expect((error as Error).message).not.toMatch(/alice|admin|evil|corp\.com|MII|_[0-9a-f]{32}/);
  expect((error as Error).cause).toBeUndefined();
  expect(replay.claims).toEqual([]);
}

async function expectAccepted(samlResponse: string, extra: Partial<ValidateSamlOptions> = {}) {
  const replay = new MemoryAssertionReplayGuard();
  const result = await validateSamlResponse(samlResponse, config, options(replay, extra));
  expect(replay.claims).toHaveLength(1);
  return result;
}

describe('validateSamlResponse: accepted responses', () => {
  it('reads the subject from NameID and claims the assertion ID until NotOnOrAfter + skew', async () => {
    const assertionId = newId();
    const posted = build({ assertionId, attributes: { email: ['alice@corp.com'], groups: ['a', 'b'] } });
    expect(posted).toMatch(/\r\n/);
    const replay = new MemoryAssertionReplayGuard();

    const result = await validateSamlResponse(posted, config, options(replay, { clockSkewSeconds: 30 }));

    const notOnOrAfter = T.getTime() / 1000 + 300;
    expect(result).toMatchObject({
      subject: 'alice@corp.com',
      assertionId,
      issuer: ISSUER,
      notOnOrAfter,
      sessionIndex: '_session-1',
      attributes: { email: ['alice@corp.com'], groups: ['a', 'b'] },
    });
    expect(result.samlResponse).toBe(posted.replace(/\s+/g, ''));
    expect(replay.claims).toEqual([{ integration: INTEGRATION, assertionId, expiresAt: notOnOrAfter + 30 }]);
  });

  it('returns the signed Assertion element, still verifiable with the IdP certificate (RFC 7522 formats)', async () => {
    const { assertionXml, assertionId } = await expectAccepted(build());
    expect(assertionXml).toMatch(new RegExp(`^<saml:Assertion [^>]*ID="${assertionId}"`));
    const verifier = new SignedXml({ publicCert: idpKey.cert });
    const signature = /<ds:Signature[\s\S]*<\/ds:Signature>/.exec(assertionXml)?.[0];
    expect(signature).toBeDefined();
    verifier.loadSignature(signature!);
    expect(verifier.checkSignature(assertionXml)).toBe(true);
  });

  it('reads the subject from the configured attribute', async () => {
    const replay = new MemoryAssertionReplayGuard();
    const result = await validateSamlResponse(
      build({ attributes: { employeeNumber: ['E-1234'] } }),
      { ...config, subjectAttribute: 'employeeNumber' },
      options(replay),
    );
    expect(result.subject).toBe('E-1234');
  });

  it('accepts a signed Response around a signed Assertion, a base64 DER certificate and a rotation list', async () => {
    await expectAccepted(build({ signResponse: true }));
    const replay = new MemoryAssertionReplayGuard();
    const rotated = { ...config, idpCert: [attackerKey.certBase64, idpKey.certBase64] };
    await expect(validateSamlResponse(build(), rotated, options(replay))).resolves.toMatchObject({
      subject: 'alice@corp.com',
    });
  });

  it('accepts an unsigned Response without Destination (the signed assertion still names the ACS)', async () => {
    await expectAccepted(build({ destination: null, responseIssuer: null }));
  });

  it('keeps an attribute named __proto__ as data', async () => {
    const { attributes } = await expectAccepted(build({ attributes: JSON.parse('{"__proto__":["x"]}') }));
    expect(Object.getPrototypeOf(attributes)).toBe(Object.prototype);
    expect(Object.hasOwn(attributes, '__proto__')).toBe(true);
  });
});

describe('validateSamlResponse: signatures', () => {
  it('rejects an unsigned response', async () => {
    await expectRejected(build({ signAssertion: false }), 'signature');
  });

  it('rejects a signed Response around an unsigned Assertion', async () => {
    await expectRejected(build({ signAssertion: false, signResponse: true }), 'signature');
  });

  it('rejects an assertion signed by another key', async () => {
    await expectRejected(build({ signer: attackerKey, keyInfoCert: null }), 'signature');
  });

  it('ignores a certificate smuggled in KeyInfo', async () => {
    await expectRejected(build({ signer: attackerKey, keyInfoCert: attackerKey }), 'signature');
  });

  it('rejects an assertion edited after signing', async () => {
    const tampered = build({
      mutate: (xml) => xml.replace('>alice@corp.com</saml:NameID>', '>admin@corp.com</saml:NameID>'),
    });
    await expectRejected(tampered, 'signature');
  });

  it('checklist 14: rejects RSA-SHA1 and HMAC signatures', async () => {
    await expectRejected(build({ algorithm: 'rsa-sha1' }), 'signature_algorithm');
    const hmac = build({
      mutate: (xml) =>
        xml
          .replace(/xmldsig-more#rsa-sha256/, 'xmldsig#hmac-sha1')
          .replace('2001/04/xmldsig#', '2000/09/xmldsig#'),
    });
    expect(Buffer.from(hmac, 'base64').toString()).toContain('http://www.w3.org/2000/09/xmldsig#hmac-sha1');
    await expectRejected(hmac, 'signature_algorithm');
  });

  it('accepts RSA-SHA512 by default', async () => {
    await expectAccepted(build({ algorithm: 'rsa-sha512' }));
  });

  it('checklist 14: SHA-1 only when the integration opts in (allowSha1: true, legacy), never silently', async () => {
    const sha1 = build({ algorithm: 'rsa-sha1' });
    await expectRejected(sha1, 'signature_algorithm', {}, { ...config, allowSha1: false });
    const replay = new MemoryAssertionReplayGuard();
    const legacy = { ...config, allowSha1: true };
    await expect(validateSamlResponse(sha1, legacy, options(replay))).resolves.toMatchObject({
      subject: 'alice@corp.com',
    });
    // The opt-in widens the algorithms only: a SHA-1 signature by another key is still refused.
    await expectRejected(
      build({ algorithm: 'rsa-sha1', signer: attackerKey, keyInfoCert: attackerKey }),
      'signature',
      {},
      legacy,
    );
  });

  it('checklist 14: allowSha1 never admits HMAC, and a SHA-1 digest under an RSA-SHA256 signature needs it too', async () => {
    const legacy = { ...config, allowSha1: true };
    const hmac = build({
      algorithm: 'rsa-sha1',
      mutate: (xml) => xml.replace('xmldsig#rsa-sha1', 'xmldsig#hmac-sha1'),
    });
    await expectRejected(hmac, 'signature_algorithm', {}, legacy);
    const sha1Digest = build({
      mutate: (xml) =>
        xml.replace('http://www.w3.org/2001/04/xmlenc#sha256', 'http://www.w3.org/2000/09/xmldsig#sha1'),
    });
    await expectRejected(sha1Digest, 'signature_algorithm');
  });

  it('rejects a comment inside DigestValue', async () => {
    await expectRejected(build({ mutate: (xml) => xml.replace('<ds:DigestValue>', '$&<!---->') }), 'markup');
  });

  it('rejects two SignedInfo elements and two References', async () => {
    const twoSignedInfo = build({
      mutate: (xml) => xml.replace(/<ds:SignedInfo>[\s\S]*?<\/ds:SignedInfo>/, '$&$&'),
    });
    await expectRejected(twoSignedInfo, 'signature');
    const twoReferences = build({
      mutate: (xml) => xml.replace(/<ds:Reference [\s\S]*?<\/ds:Reference>/, '$&$&'),
    });
    await expectRejected(twoReferences, 'signature');
  });
});

describe('validateSamlResponse: signature wrapping (XSW) and structure', () => {
  it.each<WrapAttack>(['extensions', 'signature-object', 'sibling-after', 'sibling-before', 'same-id'])(
    'rejects the %s wrapping',
    async (wrap) => {
      await expectRejected(build({ wrap }), 'structure');
    },
  );

  it('rejects the wrapping on a signed Response too', async () => {
    await expectRejected(build({ wrap: 'extensions', signResponse: true }), 'structure');
  });

  it('rejects a second assertion in a foreign namespace', async () => {
    const extra = '<x:Assertion xmlns:x="urn:evil" ID="_x"><x:NameID>admin@corp.com</x:NameID></x:Assertion>';
    await expectRejected(
      build({ mutate: (xml) => xml.replace('</samlp:Response>', `${extra}$&`) }),
      'structure',
    );
  });

  it('rejects an EncryptedAssertion and a response without assertion', async () => {
    const encrypted = '<saml:EncryptedAssertion><x/></saml:EncryptedAssertion>';
    await expectRejected(
      build({ mutate: (xml) => xml.replace('</samlp:Response>', `${encrypted}$&`) }),
      'structure',
    );
    await expectRejected(
      build({ mutate: (xml) => xml.replace(/<saml:Assertion [\s\S]*<\/saml:Assertion>/, '') }),
      'structure',
    );
  });
});

describe('validateSamlResponse: comment and processing-instruction truncation of NameID', () => {
  it('never reads alice@corp.com out of alice@corp.com<!---->.evil.com: the response is rejected', async () => {
    const posted = build({
      nameId: 'alice@corp.com.evil.com',
      mutate: (xml) => xml.replace('alice@corp.com.evil.com', 'alice@corp.com<!---->.evil.com'),
    });
    expect(Buffer.from(posted, 'base64').toString()).toContain('alice@corp.com<!---->.evil.com');
    await expectRejected(posted, 'markup');
  });

  it('rejects a comment the IdP itself signed with comment-preserving c14n', async () => {
    await expectRejected(
      build({ nameIdXml: 'alice@corp.com<!---->.evil.com', withComments: true }),
      'markup',
    );
  });

  it('rejects a processing instruction, inserted after signing or signed', async () => {
    const inserted = build({
      nameId: 'alice@corp.com.evil.com',
      mutate: (xml) => xml.replace('alice@corp.com.evil.com', 'alice@corp.com<?x y?>.evil.com'),
    });
    await expectRejected(inserted, 'markup');
    await expectRejected(build({ nameIdXml: 'alice@corp.com<?x y?>.evil.com' }), 'markup');
  });

  it('reads the signed canonical NameID whole, or not at all when it holds anything but text', () => {
    const checked = checkSamlConfig(config, INTEGRATION);
    const window = { nowMs: T.getTime(), skewMs: 0 };
    const signed = (nameId: string) =>
      Buffer.from(build({ nameIdXml: nameId, signAssertion: false }), 'base64')
        .toString()
        .match(/<saml:Assertion [\s\S]*<\/saml:Assertion>/)![0];
    expect(readSignedAssertion(signed('alice@corp.com<![CDATA[.evil.com]]>'), checked, window).subject).toBe(
      'alice@corp.com.evil.com',
    );
    for (const inner of ['alice@corp.com<!---->.evil.com', 'alice@corp.com<?x?>.evil.com', 'a<b/>c']) {
      expect(() => readSignedAssertion(signed(inner), checked, window)).toThrow(
        expect.objectContaining({ check: 'subject' }),
      );
    }
  });
});

describe('validateSamlResponse: audience, destination, issuer, recipient', () => {
  it('rejects a wrong audience', async () => {
    await expectRejected(build({ audience: 'urn:someone-else' }), 'audience');
  });

  it('rejects a wrong Destination, and a signed Response without one', async () => {
    await expectRejected(build({ destination: 'https://tokens.example.com/saml/other/acs' }), 'destination');
    await expectRejected(build({ destination: null, signResponse: true }), 'destination');
  });

  it('rejects a wrong assertion Issuer and a wrong Response Issuer', async () => {
    await expectRejected(build({ issuer: 'https://evil.example/idp' }), 'issuer');
    await expectRejected(build({ responseIssuer: 'https://evil.example/idp' }), 'issuer');
  });

  it('rejects a wrong Recipient, a missing bearer confirmation and a non-bearer method', async () => {
    await expectRejected(build({ recipient: 'https://tokens.example.com/saml/other/acs' }), 'recipient');
    await expectRejected(build({ recipient: null }), 'recipient');
    await expectRejected(
      build({ subjectConfirmationMethod: 'urn:oasis:names:tc:SAML:2.0:cm:holder-of-key' }),
      'recipient',
    );
  });

  it("rejects tenant A's response at tenant B's ACS", async () => {
    const tenantB: SamlIntegrationConfig = {
      idpCert: attackerKey.cert,
      idpIssuer: 'https://idp.tenant-b.example',
      spEntityId: 'urn:tokenvend:tenant-b',
      acsUrl: 'https://tokens.example.com/saml/tenant-b/acs',
    };
    await expectRejected(build(), 'destination', {}, tenantB);
    await expectRejected(build({ destination: null }), 'issuer', {}, tenantB);
    await expectRejected(build({ destination: null, responseIssuer: null }), 'signature', {}, tenantB);
  });

  it('checklist 21: rejects any InResponseTo when there is no SP-initiated request store', async () => {
    await expectRejected(build({ inResponseTo: '_request-1' }), 'in_response_to');
  });
});

describe('validateSamlResponse: time window (exact boundaries)', () => {
  const notBefore = at(-60_000);
  const notOnOrAfter = at(300_000);
  const times = { notBefore, notOnOrAfter };

  it('NotOnOrAfter is exclusive: accepted 1 ms before, rejected at the instant (skew 0)', async () => {
    await expectAccepted(build(times), { now: at(299_999), clockSkewSeconds: 0 });
    await expectRejected(build(times), 'time_window', { now: notOnOrAfter, clockSkewSeconds: 0 });
  });

  it('NotBefore is inclusive: accepted at the instant, rejected 1 ms before (skew 0)', async () => {
    await expectAccepted(build(times), { now: notBefore, clockSkewSeconds: 0 });
    await expectRejected(build(times), 'time_window', { now: at(-60_001), clockSkewSeconds: 0 });
  });

  it('the skew widens both ends by exactly its size', async () => {
    const skew = { clockSkewSeconds: 30 };
    await expectAccepted(build(times), { now: at(329_999), ...skew });
    await expectRejected(build(times), 'time_window', { now: at(330_000), ...skew });
    await expectAccepted(build(times), { now: at(-90_000), ...skew });
    await expectRejected(build(times), 'time_window', { now: at(-90_001), ...skew });
  });

  it('rejects an expired bearer confirmation inside valid Conditions, and one without NotOnOrAfter', async () => {
    await expectRejected(build({ subjectNotOnOrAfter: at(10_000) }), 'time_window', {
      now: at(10_000),
      clockSkewSeconds: 0,
    });
    await expectRejected(build({ subjectNotOnOrAfter: null }), 'time_window');
  });

  it('records the earliest NotOnOrAfter for the replay window', async () => {
    const replay = new MemoryAssertionReplayGuard();
    const result = await validateSamlResponse(
      build({ subjectNotOnOrAfter: at(120_000) }),
      config,
      options(replay, { clockSkewSeconds: 0 }),
    );
    expect(result.notOnOrAfter).toBe(T.getTime() / 1000 + 120);
    expect(replay.claims[0]?.expiresAt).toBe(T.getTime() / 1000 + 120);
  });
});

describe('validateSamlResponse: replay', () => {
  it('rejects the same assertion posted twice', async () => {
    const replay = new MemoryAssertionReplayGuard();
    const posted = build();
    await validateSamlResponse(posted, config, options(replay));
    const second = await validateSamlResponse(posted, config, options(replay)).catch((e: unknown) => e);
    expect(second).toBeInstanceOf(SamlValidationError);
    expect(second).toMatchObject({ check: 'replay', status: 400 });
    expect(replay.claims).toHaveLength(2);
  });

  it('rejects the same assertion ID in a freshly signed response', async () => {
    const replay = new MemoryAssertionReplayGuard();
    const assertionId = newId();
    await validateSamlResponse(build({ assertionId }), config, options(replay));
    await expect(validateSamlResponse(build({ assertionId }), config, options(replay))).rejects.toMatchObject(
      {
        check: 'replay',
      },
    );
  });

  it('a rejected response does not burn its assertion ID', async () => {
    const replay = new MemoryAssertionReplayGuard();
    const assertionId = newId();
    const bad = build({ assertionId, destination: 'https://evil.example/acs' });
    await expect(validateSamlResponse(bad, config, options(replay))).rejects.toBeInstanceOf(
      SamlValidationError,
    );
    await expect(
      validateSamlResponse(build({ assertionId }), config, options(replay)),
    ).resolves.toMatchObject({
      assertionId,
    });
  });
});

describe('validateSamlResponse: status, XML and encoding', () => {
  it('rejects a signed assertion inside a non-Success response, and a response without Status', async () => {
    await expectRejected(build({ status: 'urn:oasis:names:tc:SAML:2.0:status:Responder' }), 'status');
    await expectRejected(
      build({ mutate: (xml) => xml.replace(/<samlp:Status>.*?<\/samlp:Status>/, '') }),
      'status',
    );
  });

  it('rejects a DOCTYPE with an entity standing in for the NameID', async () => {
    const posted = build({
      mutate: (xml) =>
        `<!DOCTYPE samlp:Response [<!ENTITY who "admin@corp.com">]>${xml.replace('>alice@corp.com<', '>&who;<')}`,
    });
    await expectRejected(posted, 'xml');
  });

  it('rejects entity expansion (billion laughs) and an external entity', async () => {
    const laughs =
      '<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>';
    await expectRejected(build({ mutate: (xml) => laughs + xml }), 'xml');
    const xxe = '<!doctype r SYSTEM "file:///etc/passwd">';
    await expectRejected(build({ mutate: (xml) => xxe + xml }), 'xml');
  });

  it('rejects multiple roots, malformed XML and a non-Response root', async () => {
    await expectRejected(build({ mutate: (xml) => `${xml}<samlp:Response/>` }), 'xml');
    await expectRejected(Buffer.from('<samlp:Response><unclosed>').toString('base64'), 'xml');
    await expectRejected(build({ mutate: (xml) => `<wrapper>${xml}</wrapper>` }), 'structure');
  });

  it('rejects what is not base64', async () => {
    await expectRejected('PHNhbWxw*OlJlc3BvbnNl', 'encoding');
    await expectRejected('', 'encoding');
  });

  it('answers 413 for a body over 256 KB in well under a second, before decoding', async () => {
    const replay = new MemoryAssertionReplayGuard();
    for (const size of [MAX_SAML_RESPONSE_BYTES + 1, 1024 * 1024]) {
      const started = performance.now();
      const error = await validateSamlResponse('A'.repeat(size), config, options(replay)).catch(
        (e: unknown) => e,
      );
      expect(performance.now() - started).toBeLessThan(1000);
      expect(error).toBeInstanceOf(SamlTooLargeError);
      expect(error).toMatchObject({ status: 413, error: 'invalid_request' });
    }
    expect(replay.claims).toEqual([]);
  });

  it.each([
    ['plain elements', '<n>'],
    ['/> in text', '<n>/>'],
    ['/> in attribute values', '<n a="/>" b=\'/>\'>'],
  ])(
    'rejects deep nesting (%s) just under the size limit with a 400 in well under a second',
    async (_, open) => {
      const depth = Math.floor(150_000 / (open.length + 4));
      const nested = `<samlp:Extensions>${open.repeat(depth)}${'</n>'.repeat(depth)}</samlp:Extensions>`;
      const posted = build({ mutate: (xml) => xml.replace('<samlp:Status>', `${nested}$&`) });
      expect(posted.replace(/\s+/g, '').length).toBeLessThan(MAX_SAML_RESPONSE_BYTES);
      const replay = new MemoryAssertionReplayGuard();
      const started = performance.now();
      const error = await validateSamlResponse(posted, config, options(replay)).catch((e: unknown) => e);
      expect(performance.now() - started).toBeLessThan(1000);
      expect(error).toMatchObject({ check: 'xml', status: 400 });
      expect(replay.claims).toEqual([]);
    },
  );

  it.each([
    ['40,000 empty elements', '<n/>'.repeat(40_000)],
    ['15,000 attributes', `<n ${Array.from({ length: 15_000 }, (_, i) => `a${i}=""`).join(' ')}/>`],
  ])('rejects %s just under the size limit with a 400 in well under a second', async (_, content) => {
    const extensions = `<samlp:Extensions>${content}</samlp:Extensions>`;
    const posted = build({ mutate: (xml) => xml.replace('<samlp:Status>', `${extensions}$&`) });
    expect(posted.length).toBeLessThan(MAX_SAML_RESPONSE_BYTES);
    const replay = new MemoryAssertionReplayGuard();
    const started = performance.now();
    const error = await validateSamlResponse(posted, config, options(replay)).catch((e: unknown) => e);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(error).toMatchObject({ check: 'xml', status: 400 });
    expect(replay.claims).toEqual([]);
  });

  it('accepts a large response within the markup limits (900 attribute values)', async () => {
    const groups = Array.from({ length: 900 }, (_, i) => `group-${i}-of-the-corporate-directory`);
    const { attributes } = await expectAccepted(build({ attributes: { groups } }));
    expect(attributes.groups).toEqual(groups);
  });
});

describe('validateSamlResponse: configuration', () => {
  it('throws ConfigError for a certificate that does not parse, before looking at the response', async () => {
    const replay = new MemoryAssertionReplayGuard();
    for (const idpCert of ['not a certificate', idpKey.certBase64.slice(0, 200), [idpKey.cert, 'MIIB']]) {
      const error = await validateSamlResponse(build(), { ...config, idpCert }, options(replay)).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ConfigError);
      expect(error).toMatchObject({ status: 500 });
    }
    expect(replay.claims).toEqual([]);
  });

  it('throws ConfigError for an allowSha1 that is not a boolean', async () => {
    const replay = new MemoryAssertionReplayGuard();
    const odd = { ...config, allowSha1: 'yes' } as unknown as SamlIntegrationConfig;
    await expect(validateSamlResponse(build(), odd, options(replay))).rejects.toThrow(
      /saml\.allowSha1: true or false/,
    );
  });

  it('throws ConfigError for a private key given as certificate and for a plain-http ACS', async () => {
    const replay = new MemoryAssertionReplayGuard();
    await expect(
      validateSamlResponse(build(), { ...config, idpCert: idpKey.privateKey }, options(replay)),
    ).rejects.toBeInstanceOf(ConfigError);
    await expect(
      validateSamlResponse(build(), { ...config, acsUrl: 'http://tokens.example.com/acs' }, options(replay)),
    ).rejects.toBeInstanceOf(ConfigError);
    expect(replay.claims).toEqual([]);
  });
});
