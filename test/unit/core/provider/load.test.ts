import { TemplateError } from '../../../../functions/core/errors.js';
import { loadProviderTemplate, loadProviderTemplateText } from '../../../../functions/core/provider/load.js';

const minimal = {
  id: 'acme',
  name: 'Acme',
  variables: {
    region: { description: 'region', enum: ['eu.acme.com', 'us.acme.com'], default: 'eu.acme.com' },
  },
  endpoints: { authorize: 'https://login.${region}/authorize', token: 'https://login.${region}/token' },
  grants: { authorization_code: {}, refresh_token: {} },
};

function loadError(input: unknown, source = 'providers/acme.json'): TemplateError {
  try {
    loadProviderTemplate(input, source);
  } catch (e) {
    if (e instanceof TemplateError) return e;
    throw e;
  }
  throw new Error('expected the template to fail');
}

describe('loadProviderTemplate', () => {
  it('loads a minimal template and fills defaults', () => {
    const t = loadProviderTemplate(minimal);
    expect(t.grants.authorization_code?.clientAuth).toBe('basic');
    expect(t.grants.authorization_code?.code).toEqual({ in: 'body', name: 'code' });
    expect(t.usage).toEqual({ in: 'header', name: 'Authorization', value: '${token_type} ${access_token}' });
  });

  it('names file, JSON path and problem for an unknown key', () => {
    const e = loadError({ ...minimal, grants: { authorization_code: { clientAuht: 'basic' } } });
    expect(e.message).toBe('providers/acme.json: $.grants.authorization_code: unknown key "clientAuht"');
  });

  it('rejects a wrong enum value with its path', () => {
    const e = loadError({ ...minimal, grants: { authorization_code: { clientAuth: 'header' } } });
    expect(e.path).toBe('$.grants.authorization_code.clientAuth');
  });

  it('rejects an undeclared variable', () => {
    const e = loadError({
      ...minimal,
      endpoints: { ...minimal.endpoints, token: 'https://login.${regoin}/token' },
    });
    expect(e.message).toMatch(/\$\.endpoints\.token: undeclared variable \$\{regoin\}/);
  });

  it('rejects a bad pattern', () => {
    const e = loadError({ ...minimal, variables: { region: { description: 'r', pattern: '([a-z' } } });
    expect(e.path).toBe('$.variables.region.pattern');
  });

  it('rejects a default of the wrong type', () => {
    const e = loadError({
      ...minimal,
      variables: { region: { description: 'r', enum: ['a.com'], default: 3 } },
    });
    expect(e.path).toBe('$.variables.region.default');
    expect(e.problem).toMatch(/must be a string/);
  });

  it('requires URL variables to be constrained', () => {
    const e = loadError({ ...minimal, variables: { region: { description: 'r', default: 'x' } } });
    expect(e.message).toMatch(/\$\.variables\.region: .*enum or a pattern/);
  });

  it('reads YAML by file name', () => {
    const t = loadProviderTemplateText(
      'id: acme\nname: Acme\nendpoints:\n  token: https://acme.example/token\ngrants:\n  client_credentials: {}\n',
      'providers/acme.yaml',
    );
    expect(t.grants.client_credentials?.grantType).toBe('client_credentials');
  });

  it('reports broken JSON as a TemplateError', () => {
    expect(() => loadProviderTemplateText('{', 'providers/broken.json')).toThrow(TemplateError);
  });
});
