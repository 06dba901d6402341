/**
 * IdP metadata instead of idpCert/idpIssuer: inline XML or an https URL fetched and cached per container. The
 * entity ID, every signing certificate (rollover: current and next) and the HTTP-Redirect SSO URL come from
 * it; encryption-only keys are never trusted; the strict checks (checklist 12-25) stay the same. A cached
 * document is fetched again when a signature fails (rate-limited), so an IdP that switched certificates is
 * followed without a redeploy.
 */

import { samlConfigSchema } from '../../../../functions/core/config/schema.js';
import { ConfigError } from '../../../../functions/core/errors.js';
import { checkSamlConfig, type SamlIntegrationConfig } from '../../../../functions/core/saml/config.js';
import { SamlValidationError } from '../../../../functions/core/saml/errors.js';
import {
  IdpMetadataCache,
  IdpMetadataUnavailableError,
} from '../../../../functions/core/saml/idp-metadata.js';
import { validateSamlResponse } from '../../../../functions/core/saml/validate.js';
import { MemoryAssertionReplayGuard } from '../../../support/memory-replay-guard.js';
import {
  generateSigningKey,
  idpEntityDescriptor,
  idpMetadataXml,
  type SamlResponseOptions,
  TestIdp,
  type TestSigningKey,
} from '../../../support/saml-idp.js';

const ISSUER = 'https://idp.corp.example/saml/metadata';
const SP = 'urn:tokenvend:genesys-eu';
const ACS = 'https://tokens.example.com/saml/genesys-eu/acs';
const SSO = 'https://idp.corp.example/saml/sso';
const METADATA_URL = 'https://idp.corp.example/federationmetadata.xml';
const T = new Date('2026-03-02T10:00:00.000Z');

let current: TestSigningKey;
let next: TestSigningKey;
let encryptionOnly: TestSigningKey;
let attacker: TestSigningKey;

beforeAll(() => {
  current = generateSigningKey('idp-current');
  next = generateSigningKey('idp-next');
  encryptionOnly = generateSigningKey('idp-encryption');
  attacker = generateSigningKey('attacker');
});

const idp = (key: TestSigningKey, issuer = ISSUER) => new TestIdp({ key, issuer, audience: SP, acsUrl: ACS });
const build = (key: TestSigningKey, o: Partial<SamlResponseOptions> = {}) =>
  idp(key, o.issuer).buildResponse({ now: T, ...o });
const base = { spEntityId: SP, acsUrl: ACS };

async function validate(posted: string, config: SamlIntegrationConfig, source?: IdpMetadataCache) {
  const replay = new MemoryAssertionReplayGuard();
  return validateSamlResponse(posted, config, {
    now: T,
    replay,
    integration: 'genesys-eu',
    ...(source ? { idpMetadata: source } : {}),
  });
}

async function refused(promise: Promise<unknown>, check: SamlValidationError['check']) {
  const error = await promise.catch((e: unknown) => e);
  expect(error).toBeInstanceOf(SamlValidationError);
  expect(error).toMatchObject({ check });
}

describe('inline IdP metadata (idpMetadataXml)', () => {
  it('takes the issuer, every signing certificate and the HTTP-Redirect SSO URL from the document', () => {
    const xml = idpMetadataXml({
      entityId: ISSUER,
      signing: [current, next],
      encryption: encryptionOnly,
      ssoUrl: SSO,
    });
    const checked = checkSamlConfig({ ...base, idpMetadataXml: xml }, 'genesys-eu');
    expect(checked.idpIssuer).toBe(ISSUER);
    expect(checked.idpCerts).toEqual([current.cert, next.cert].map((c) => c.replace(/\r\n/g, '\n')));
    expect(checked.idpSsoUrl).toBe(SSO);
    // An explicit idpSsoUrl wins over the document's.
    const explicit = checkSamlConfig(
      { ...base, idpMetadataXml: xml, idpSsoUrl: 'https://other.example/sso' },
      'genesys-eu',
    );
    expect(explicit.idpSsoUrl).toBe('https://other.example/sso');
  });

  it('rollover: responses signed by the current and the next certificate are accepted, nothing else', async () => {
    const config = {
      ...base,
      idpMetadataXml: idpMetadataXml({
        entityId: ISSUER,
        signing: [current, next],
        encryption: encryptionOnly,
      }),
    };
    await expect(validate(build(current), config)).resolves.toMatchObject({ issuer: ISSUER });
    await expect(validate(build(next), config)).resolves.toMatchObject({ issuer: ISSUER });
    // checklist 14: another key, even with its certificate in KeyInfo; a key published for encryption only.
    await refused(validate(build(attacker), config), 'signature');
    await refused(validate(build(encryptionOnly), config), 'signature');
    // The document's entity ID is the expected issuer (checklist 18).
    await refused(validate(build(current, { issuer: 'https://evil.example/idp' }), config), 'issuer');
  });

  it('a KeyDescriptor without use is trusted for signing (saml-metadata 2.4.1.1)', async () => {
    const config = {
      ...base,
      idpMetadataXml: idpMetadataXml({ entityId: ISSUER, signing: [], unspecified: next }),
    };
    await expect(validate(build(next), config)).resolves.toMatchObject({ subject: 'alice@corp.com' });
  });

  it('an aggregate (EntitiesDescriptor) needs idpIssuer to choose the IdP, which must exist', async () => {
    const aggregate =
      '<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata">' +
      idpEntityDescriptor({ entityId: 'https://idp-a.example', signing: [attacker] }) +
      idpEntityDescriptor({ entityId: ISSUER, signing: [current] }) +
      '</md:EntitiesDescriptor>';
    expect(() => checkSamlConfig({ ...base, idpMetadataXml: aggregate }, 'genesys-eu')).toThrow(
      /saml\.idpMetadataXml: the document describes several IdPs: set idpIssuer/,
    );
    const chosen = { ...base, idpMetadataXml: aggregate, idpIssuer: ISSUER };
    await expect(validate(build(current), chosen)).resolves.toMatchObject({ issuer: ISSUER });
    // The other IdP of the aggregate is not trusted here: its responses name another issuer.
    await refused(validate(build(attacker, { issuer: 'https://idp-a.example' }), chosen), 'issuer');
    expect(() =>
      checkSamlConfig(
        { ...base, idpMetadataXml: aggregate, idpIssuer: 'https://nope.example' },
        'genesys-eu',
      ),
    ).toThrow(/has no IdP with the configured idpIssuer/);
  });

  it.each([
    [
      'a DTD',
      (x: string) => `<!DOCTYPE x [<!ENTITY e "y">]>${x.replace('<?xml version="1.0"?>', '')}`,
      /DTD/,
    ],
    [
      'no IDPSSODescriptor',
      (x: string) => x.replace(/IDPSSODescriptor/g, 'SPSSODescriptor'),
      /no SAML 2\.0 IdP/,
    ],
    [
      'a certificate that does not parse',
      (x: string) => x.replace(/<ds:X509Certificate>MII/, '<ds:X509Certificate>XX'),
      /does not parse/,
    ],
    [
      'no signing certificate',
      (x: string) => x.replace(/use="signing"/g, 'use="encryption"'),
      /no signing certificate/,
    ],
    [
      'an http SSO URL',
      (x: string) => x.replace('https://idp.corp.example/saml/sso"', 'http://idp.corp.example/sso"'),
      /not https/,
    ],
    ['not XML', () => 'MIIC...', /not well-formed/],
  ])(
    'inline metadata with %s is a ConfigError naming the problem, never the document',
    (_n, edit, message) => {
      const xml = edit(idpMetadataXml({ entityId: ISSUER, signing: [current], ssoUrl: SSO }));
      let error: unknown;
      try {
        checkSamlConfig({ ...base, idpMetadataXml: xml }, 'genesys-eu');
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toMatch(
        /^integration genesys-eu: saml\.idpMetadataXml: the document /,
      );
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).not.toContain(current.certBase64.slice(0, 40));
    },
  );

  it('exactly one of idpCert (with idpIssuer), idpMetadataXml and idpMetadataUrl; the schema agrees', () => {
    const xml = idpMetadataXml({ entityId: ISSUER, signing: [current] });
    const cases: [object, boolean][] = [
      [{ idpCert: current.cert, idpIssuer: ISSUER }, true],
      [{ idpMetadataXml: xml }, true],
      [{ idpMetadataUrl: METADATA_URL }, true],
      [{ idpCert: current.cert }, false],
      [{}, false],
      [{ idpCert: current.cert, idpIssuer: ISSUER, idpMetadataUrl: METADATA_URL }, false],
      [{ idpMetadataXml: xml, idpMetadataUrl: METADATA_URL }, false],
      [{ idpMetadataUrl: 'http://idp.corp.example/metadata' }, false],
    ];
    for (const [idp, ok] of cases) {
      const config = { ...base, ...idp } as SamlIntegrationConfig;
      const hand = (() => {
        try {
          checkSamlConfig(config, 'genesys-eu');
          return true;
        } catch (error) {
          expect(error).toBeInstanceOf(ConfigError);
          return false;
        }
      })();
      const schema = samlConfigSchema.safeParse({ spEntityId: SP, ...idp }).success;
      // The schema accepts http URLs (z.url); the hand check (at synth too) refuses them.
      const expectedSchema =
        ok || (idp as { idpMetadataUrl?: string }).idpMetadataUrl?.startsWith('http://') === true;
      expect({ idp: Object.keys(idp), hand, schema }).toEqual({
        idp: Object.keys(idp),
        hand: ok,
        schema: expectedSchema,
      });
    }
  });
});

/** A fake IdP metadata endpoint: answers the current document; counts requests; can fail. */
function metadataServer(initial: string) {
  const state = { document: initial, status: 200, requests: 0, fail: false };
  const fetch = async (url: string, init: RequestInit) => {
    state.requests += 1;
    expect(url).toBe(METADATA_URL);
    expect(init.method).toBe('GET');
    if (state.fail) throw Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } });
    return new Response(state.document, {
      status: state.status,
      headers: { 'content-type': 'application/samlmetadata+xml' },
    });
  };
  return { state, fetch };
}

describe('IdP metadata URL (idpMetadataUrl), cached per container', () => {
  const config = { ...base, idpMetadataUrl: METADATA_URL };

  it('fetches once, then serves from the cache until it is an hour old', async () => {
    const server = metadataServer(idpMetadataXml({ entityId: ISSUER, signing: [current] }));
    let now = 0;
    const cache = new IdpMetadataCache({ fetch: server.fetch, timeoutMs: 1000, nowMs: () => now });
    await Promise.all([validate(build(current), config, cache), validate(build(current), config, cache)]);
    await validate(build(current), config, cache);
    expect(server.state.requests).toBe(1);
    now = 3_600_000;
    await validate(build(current), config, cache);
    expect(server.state.requests).toBe(2);
  });

  it('rollover: after the IdP switches to a newly published certificate, a failed signature fetches again once', async () => {
    const server = metadataServer(idpMetadataXml({ entityId: ISSUER, signing: [current] }));
    let now = 0;
    const cache = new IdpMetadataCache({ fetch: server.fetch, timeoutMs: 1000, nowMs: () => now });
    await validate(build(current), config, cache);
    // The IdP publishes the next certificate and signs with it, within our hour of caching.
    server.state.document = idpMetadataXml({ entityId: ISSUER, signing: [current, next] });
    now = 10 * 60_000;
    await expect(validate(build(next), config, cache)).resolves.toMatchObject({ issuer: ISSUER });
    expect(server.state.requests).toBe(2);
    // Both stay trusted; no more fetches.
    await validate(build(current), config, cache);
    await validate(build(next), config, cache);
    expect(server.state.requests).toBe(2);
  });

  it("checklist 14: an attacker's signatures cannot make us hammer the IdP (at most one fetch per five minutes)", async () => {
    const server = metadataServer(idpMetadataXml({ entityId: ISSUER, signing: [current] }));
    let now = 0;
    const cache = new IdpMetadataCache({ fetch: server.fetch, timeoutMs: 1000, nowMs: () => now });
    await validate(build(current), config, cache);
    now = 10 * 60_000;
    for (let i = 0; i < 20; i++) await refused(validate(build(attacker), config, cache), 'signature');
    expect(server.state.requests).toBe(2);
    now += 5 * 60_000;
    await refused(validate(build(attacker), config, cache), 'signature');
    expect(server.state.requests).toBe(3);
  });

  it('keeps the last good document for a day while the URL fails, then fails closed (502)', async () => {
    const server = metadataServer(idpMetadataXml({ entityId: ISSUER, signing: [current] }));
    let now = 0;
    const cache = new IdpMetadataCache({ fetch: server.fetch, timeoutMs: 1000, nowMs: () => now });
    await validate(build(current), config, cache);
    server.state.fail = true;
    now = 2 * 3_600_000;
    await expect(validate(build(current), config, cache)).resolves.toMatchObject({ issuer: ISSUER });
    now = 25 * 3_600_000;
    const error = await validate(build(current), config, cache).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IdpMetadataUnavailableError);
    expect(error).toMatchObject({ status: 502, error: 'server_error' });
  });

  it.each([
    [
      'a 404',
      (s: ReturnType<typeof metadataServer>['state']) => Object.assign(s, { status: 404 }),
      /answered 404/,
    ],
    [
      'a refused connection',
      (s: ReturnType<typeof metadataServer>['state']) => Object.assign(s, { fail: true }),
      /could not be reached/,
    ],
    [
      'a document without a signing certificate',
      (s: ReturnType<typeof metadataServer>['state']) =>
        Object.assign(s, { document: s.document.replace(/use="signing"/g, 'use="encryption"') }),
      /no signing certificate/,
    ],
    [
      'a document with a DTD',
      (s: ReturnType<typeof metadataServer>['state']) =>
        Object.assign(s, { document: `<!DOCTYPE x>${s.document.replace('<?xml version="1.0"?>', '')}` }),
      /DTD/,
    ],
  ])(
    'without a good document ever fetched, %s fails closed (502), never a 400 to the poster',
    async (_n, breakIt, message) => {
      const server = metadataServer(idpMetadataXml({ entityId: ISSUER, signing: [current] }));
      breakIt(server.state);
      const cache = new IdpMetadataCache({ fetch: server.fetch, timeoutMs: 1000 });
      const error = await validate(build(current), config, cache).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(IdpMetadataUnavailableError);
      expect((error as Error).message).toMatch(message);
    },
  );

  it('without a metadata source the config is unusable (ConfigError), never validated against no certificate', async () => {
    await expect(validate(build(current), config)).rejects.toBeInstanceOf(ConfigError);
  });

  it('refuses an http metadata URL outside local mode', async () => {
    const server = metadataServer(idpMetadataXml({ entityId: ISSUER, signing: [current] }));
    const cache = new IdpMetadataCache({ fetch: server.fetch, timeoutMs: 1000 });
    const local = { ...base, idpMetadataUrl: 'http://127.0.0.1:9/metadata' };
    await expect(validate(build(current), local, cache)).rejects.toBeInstanceOf(ConfigError);
    expect(server.state.requests).toBe(0);
  });
});
