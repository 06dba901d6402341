/**
 * SP-initiated responses (security checklist 21): a response is accepted for a request only when its SIGNED
 * bearer confirmation names an outstanding request of this integration as InResponseTo, once; unknown, reused,
 * expired and foreign request IDs are refused before the replay claim (and so before any vendor call), the
 * unsigned Response's InResponseTo can never stand in for the signed one, and `allowIdpInitiated: false` refuses
 * unsolicited responses.
 */
import type { SamlIntegrationConfig } from '../../../../functions/core/saml/config.js';
import { SamlValidationError } from '../../../../functions/core/saml/errors.js';
import { validateSamlResponse } from '../../../../functions/core/saml/validate.js';
import { MemoryAssertionReplayGuard } from '../../../support/memory-replay-guard.js';
import { MemorySamlRequestStore } from '../../../support/memory-saml-requests.js';
import {
  generateSigningKey,
  newId,
  type SamlResponseOptions,
  TestIdp,
  type TestSigningKey,
} from '../../../support/saml-idp.js';

const INTEGRATION = 'genesys-eu';
const OTHER = 'genesys-us';
const ISSUER = 'https://idp.corp.example/saml/metadata';
const SP = 'urn:tokenvend:genesys-eu';
const ACS = 'https://tokens.example.com/saml/genesys-eu/acs';
const T = new Date('2026-03-02T10:00:00.000Z');
const nowSeconds = T.getTime() / 1000;
const RETURN_TO = 'https://agent.example.com/connected';

let idpKey: TestSigningKey;
let idp: TestIdp;
let config: SamlIntegrationConfig;
let requests: MemorySamlRequestStore;
let replay: MemoryAssertionReplayGuard;

beforeAll(() => {
  idpKey = generateSigningKey('corp-idp');
  idp = new TestIdp({ key: idpKey, issuer: ISSUER, audience: SP, acsUrl: ACS });
  config = { idpCert: idpKey.cert, idpIssuer: ISSUER, spEntityId: SP, acsUrl: ACS };
});

beforeEach(() => {
  requests = new MemorySamlRequestStore();
  replay = new MemoryAssertionReplayGuard();
});

const build = (o: Partial<SamlResponseOptions> = {}) => idp.buildResponse({ now: T, ...o });

/** A request this integration sent, outstanding until `expiresAt`. */
async function sent(integration = INTEGRATION, expiresAt = nowSeconds + 600, returnTo?: string) {
  const id = newId();
  await requests.put(id, { integration, returnTo, createdAt: nowSeconds }, expiresAt);
  return id;
}

function validate(posted: string, cfg: SamlIntegrationConfig = config, withStore = true) {
  return validateSamlResponse(posted, cfg, {
    now: T,
    replay,
    integration: INTEGRATION,
    ...(withStore ? { requests } : {}),
  });
}

async function expectRefused(
  posted: string,
  check: SamlValidationError['check'],
  cfg: SamlIntegrationConfig = config,
  withStore = true,
) {
  const claims = replay.claims.length;
  const error = await validate(posted, cfg, withStore).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(SamlValidationError);
  expect(error).toMatchObject({ check, status: 400, error: 'invalid_request' });
  expect((error as Error).message).not.toMatch(/_[0-9a-f]{32}/);
  // Refused before the replay claim: the assertion ID is not used up, and no vendor call can follow.
  expect(replay.claims.length).toBe(claims);
}

describe('InResponseTo (checklist 21)', () => {
  it('accepts a response to an outstanding request of this integration, once, and returns the request', async () => {
    const id = await sent(INTEGRATION, nowSeconds + 600, RETURN_TO);
    const result = await validate(build({ inResponseTo: id }));
    expect(result.request).toEqual({ integration: INTEGRATION, returnTo: RETURN_TO, createdAt: nowSeconds });
    expect(requests.consumed).toEqual([{ requestId: id, integration: INTEGRATION, found: true }]);
    expect(replay.claims).toHaveLength(1);
  });

  it('checklist 21: a reused request ID is refused (a second response to the same request)', async () => {
    const id = await sent();
    await validate(build({ inResponseTo: id }));
    await expectRefused(build({ inResponseTo: id }), 'in_response_to');
  });

  it('checklist 21: an unknown request ID is refused', async () => {
    await expectRefused(build({ inResponseTo: newId() }), 'in_response_to');
  });

  it('checklist 21: an expired request is refused (exclusive end)', async () => {
    const expired = await sent(INTEGRATION, nowSeconds);
    await expectRefused(build({ inResponseTo: expired }), 'in_response_to');
    const fresh = await sent(INTEGRATION, nowSeconds + 1);
    await expect(validate(build({ inResponseTo: fresh }))).resolves.toMatchObject({
      subject: 'alice@corp.com',
    });
  });

  it("checklist 21: another integration's request is refused, and stays usable there", async () => {
    const foreign = await sent(OTHER);
    await expectRefused(build({ inResponseTo: foreign }), 'in_response_to');
    expect(await requests.consume(foreign, OTHER, nowSeconds)).toMatchObject({ integration: OTHER });
  });

  it("checklist 21: the unsigned Response's InResponseTo never stands in for the signed one", async () => {
    const id = await sent();
    // Only the Response names the request: an IdP-initiated assertion dressed up as an answer.
    await expectRefused(build({ responseInResponseTo: id }), 'in_response_to');
    // The Response names another request than the signed confirmation.
    await expectRefused(build({ inResponseTo: id, responseInResponseTo: newId() }), 'in_response_to');
    // Neither refusal used up the request.
    await expect(validate(build({ inResponseTo: id, responseInResponseTo: null }))).resolves.toMatchObject({
      request: { integration: INTEGRATION },
    });
  });

  it('checklist 21: a response rejected for another reason does not use up its request', async () => {
    const id = await sent();
    await expectRefused(build({ inResponseTo: id, audience: 'urn:someone-else' }), 'audience');
    await expectRefused(build({ inResponseTo: id, signer: generateSigningKey('x') }), 'signature');
    expect(requests.consumed).toEqual([]);
    await expect(validate(build({ inResponseTo: id }))).resolves.toMatchObject({ subject: 'alice@corp.com' });
  });

  it('checklist 21: without a request store (no SP-initiated sign-in) every InResponseTo is refused', async () => {
    await expectRefused(build({ inResponseTo: await sent() }), 'in_response_to', config, false);
    await expectRefused(build({ inResponseTo: '' }), 'in_response_to');
    await expectRefused(build({ inResponseTo: `_${'a'.repeat(300)}` }), 'in_response_to');
  });

  it('checklist 21: allowIdpInitiated false refuses unsolicited responses; true (the default) accepts them', async () => {
    const strict = { ...config, allowIdpInitiated: false };
    await expectRefused(build(), 'unsolicited', strict);
    await expect(validate(build(), strict)).rejects.toMatchObject({ check: 'unsolicited' });
    await expect(validate(build({ inResponseTo: await sent() }), strict)).resolves.toMatchObject({
      request: { integration: INTEGRATION },
    });
    await expect(validate(build())).resolves.not.toHaveProperty('request');
    await expect(validate(build(), { ...config, allowIdpInitiated: true })).resolves.toMatchObject({
      subject: 'alice@corp.com',
    });
  });

  it('a replayed solicited response is refused: its request is used (the assertion ID would be too)', async () => {
    const id = await sent();
    const posted = build({ inResponseTo: id });
    await validate(posted);
    await expectRefused(posted, 'in_response_to');
  });
});
