/**
 * Subject mapping as data (`saml.subjectTransform`): lowercase and strip a domain, applied to the signed NameID
 * or attribute before the subject rules; a value outside the listed domains is refused, never kept whole.
 */
import { samlConfigSchema } from '../../../../functions/core/config/schema.js';
import { ConfigError } from '../../../../functions/core/errors.js';
import type { SamlIntegrationConfig } from '../../../../functions/core/saml/config.js';
import { SamlValidationError } from '../../../../functions/core/saml/errors.js';
import { transformSubject } from '../../../../functions/core/saml/subject-transform.js';
import { type ValidatedAssertion, validateSamlResponse } from '../../../../functions/core/saml/validate.js';
import { MemoryAssertionReplayGuard } from '../../../support/memory-replay-guard.js';
import { generateSigningKey, type SamlResponseOptions, TestIdp } from '../../../support/saml-idp.js';

const ISSUER = 'https://idp.corp.example/saml/metadata';
const SP = 'urn:tokenvend:genesys-eu';
const ACS = 'https://tokens.example.com/saml/genesys-eu/acs';
const T = new Date('2026-03-02T10:00:00.000Z');

let idp: TestIdp;
let config: SamlIntegrationConfig;

beforeAll(() => {
  const key = generateSigningKey('corp-idp');
  idp = new TestIdp({ key, issuer: ISSUER, audience: SP, acsUrl: ACS });
  config = { idpCert: key.cert, idpIssuer: ISSUER, spEntityId: SP, acsUrl: ACS };
});

interface Outcome {
  result?: ValidatedAssertion;
  error?: unknown;
  replay: MemoryAssertionReplayGuard;
}

function validate(o: Partial<SamlResponseOptions>, transform: object, extra: object = {}): Promise<Outcome> {
  const replay = new MemoryAssertionReplayGuard();
  return validateSamlResponse(
    idp.buildResponse({ now: T, ...o }),
    { ...config, ...extra, subjectTransform: transform } as SamlIntegrationConfig,
    { now: T, replay, integration: 'genesys-eu' },
  ).then(
    (result): Outcome => ({ result, replay }),
    (error: unknown): Outcome => ({ error, replay }),
  );
}

describe('subjectTransform', () => {
  it('lowercases the signed NameID', async () => {
    const { result } = await validate({ nameId: 'Alice.Smith@Corp.Example' }, { lowercase: true });
    expect(result?.subject).toBe('alice.smith@corp.example');
  });

  it('strips a listed domain (case-insensitively), keeping the local part as asserted unless lowercased', async () => {
    const strip = { stripDomain: ['corp.example', 'corp.example.de'] };
    expect((await validate({ nameId: 'Alice@CORP.example' }, strip)).result?.subject).toBe('Alice');
    expect((await validate({ nameId: 'bob@corp.example.de' }, strip)).result?.subject).toBe('bob');
    const both = { ...strip, lowercase: true };
    expect((await validate({ nameId: 'Alice@CORP.example' }, both)).result?.subject).toBe('alice');
  });

  it('applies to the configured attribute as well', async () => {
    const { result } = await validate(
      { attributes: { upn: ['Carol@Corp.Example'] } },
      { stripDomain: ['corp.example'], lowercase: true },
      { subjectAttribute: 'upn' },
    );
    expect(result?.subject).toBe('carol');
  });

  it.each([
    ['another domain', 'alice@partner.example'],
    ['a sub-domain of a listed one', 'alice@eu.corp.example'],
    ['no domain', 'alice'],
    ['an empty local part', '@corp.example'],
    ['a domain that only ends like a listed one', 'alice@evilcorp.example'],
  ])('refuses %s before the replay claim (no vendor call can follow)', async (_name, nameId) => {
    const { error, replay } = await validate({ nameId }, { stripDomain: ['corp.example'] });
    expect(error).toBeInstanceOf(SamlValidationError);
    expect(error).toMatchObject({ check: 'subject', status: 400 });
    expect((error as Error).message).not.toContain(nameId);
    expect(replay.claims).toEqual([]);
  });

  it('strips only the last @domain (a local part may hold @ in quotes)', () => {
    expect(transformSubject('"a@b"@corp.example', { stripDomain: ['corp.example'] })).toBe('"a@b"');
  });

  it('without a transform the value is kept as asserted', () => {
    expect(transformSubject('Alice@Corp.Example', undefined)).toBe('Alice@Corp.Example');
    expect(transformSubject('Alice@Corp.Example', {})).toBe('Alice@Corp.Example');
  });

  it('the deployment config schema (checked at synth) agrees', () => {
    const base = { idpCert: 'x', idpIssuer: 'i', spEntityId: 's' };
    const ok = { lowercase: true, stripDomain: ['corp.example', 'corp'] };
    expect(samlConfigSchema.safeParse({ ...base, subjectTransform: ok }).success).toBe(true);
    for (const bad of [{ stripDomain: ['@corp.example'] }, { stripDomain: [] }, { upper: true }]) {
      expect(samlConfigSchema.safeParse({ ...base, subjectTransform: bad }).success).toBe(false);
    }
  });

  it.each([
    [{ lowercase: 'yes' }, /subjectTransform\.lowercase: true or false/],
    [{ stripDomain: [] }, /subjectTransform\.stripDomain: a list of 1 to 20 domain names/],
    [{ stripDomain: ['@corp.example'] }, /subjectTransform\.stripDomain/],
    [{ stripDomain: ['corp..example'] }, /subjectTransform\.stripDomain/],
    [{ upper: true }, /subjectTransform\.upper: unknown key/],
    ['lowercase', /subjectTransform: an object/],
  ])('a malformed transform %j is a ConfigError naming the key', async (transform, message) => {
    const { error } = await validate({}, transform as object);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(message);
  });
});
