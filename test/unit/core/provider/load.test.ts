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

/** `minimal` with `patch` deep-merged at `path` (objects only), for one-spot mutations. */
function withAt(path: string[], value: unknown): Record<string, unknown> {
  const copy = structuredClone(minimal) as Record<string, unknown>;
  let node = copy;
  for (const key of path.slice(0, -1)) {
    if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1] as string] = value;
  return copy;
}

describe('loadProviderTemplate: schema', () => {
  it.each([
    [['surprise'], 1, '$', '"surprise"'],
    [['variables', 'region', 'sensitive'], true, '$.variables.region', '"sensitive"'],
    [['endpoints', 'revoke'], { url: 'https://a.acme.com/r', verb: 'POST' }, '$.endpoints.revoke', '"verb"'],
    [['response', 'expiresIn'], { field: 'x', unit: 's' }, '$.response.expiresIn', '"unit"'],
    [
      ['refresh', 'refreshAt'],
      { kind: 'before-expiry', seconds: 5, jitter: 1 },
      '$.refresh.refreshAt',
      '"jitter"',
    ],
    [['usage'], { in: 'query', name: 'token', where: 'x' }, '$.usage', '"where"'],
    [
      ['grants', 'authorization_code', 'code'],
      { in: 'query', as: 'x' },
      '$.grants.authorization_code.code',
      '"as"',
    ],
    [
      ['grants', 'authorization_code', 'pkce'],
      { when: 'always', plain: true },
      '$.grants.authorization_code.pkce',
      '"plain"',
    ],
  ])('rejects unknown key at %j', (path, value, where, key) => {
    const e = loadError(withAt(path as string[], value));
    expect(e.path).toBe(where);
    expect(e.problem).toBe(`unknown key ${key}`);
    expect(e.message).toBe(`providers/acme.json: ${where}: unknown key ${key}`);
  });

  it.each([
    [['id'], 7, '$.id'],
    [['id'], 'Acme Corp', '$.id'],
    [['variables', 'region', 'required'], 'yes', '$.variables.region.required'],
    [['grants', 'authorization_code', 'pkce', 'when'], 'sometimes', '$.grants.authorization_code.pkce.when'],
    [['grants', 'authorization_code', 'bodyEncoding'], 'xml', '$.grants.authorization_code.bodyEncoding'],
    [['refresh', 'refreshAt'], { kind: 'lifetime-fraction', fraction: 1.5 }, '$.refresh.refreshAt.fraction'],
    [['refresh', 'minIntervalSeconds'], -1, '$.refresh.minIntervalSeconds'],
    [['usage', 'in'], 'cookie', '$.usage.in'],
    [['authorize', 'defaultScopes'], 'openid', '$.authorize.defaultScopes'],
    [['grants'], {}, '$.grants'],
  ])('rejects a wrong type at %j', (path, value, where) => {
    const e = loadError(withAt(path as string[], value));
    expect(e).toBeInstanceOf(TemplateError);
    expect(e.path).toBe(where);
    expect(e.source).toBe('providers/acme.json');
    expect(e.problem.length).toBeGreaterThan(0);
  });

  it.each([
    [['response', 'refreshToken'], '$.response.refreshToken.match'],
    [['response', 'expiresIn'], '$.response.expiresIn.field.match'],
    [['endpoints', 'userinfo'], '$.endpoints.userinfo.subject.match'],
  ])('rejects a bad regex in a response field selector at %j', (path, where) => {
    const selector = { match: 'refresh.[tT' };
    const value = where.endsWith('field.match')
      ? { field: selector }
      : where.includes('userinfo')
        ? { url: 'https://a.acme.com/me', subject: selector }
        : selector;
    const e = loadError(withAt(path as string[], value));
    expect(e.path).toBe(where);
    expect(e.problem).toMatch(/not a valid regular expression/);
  });

  it('rejects a selector regex that only compiles once anchored', () => {
    const e = loadError(withAt(['response', 'refreshToken'], { match: 'x)|(.*' }));
    expect(e.path).toBe('$.response.refreshToken.match');
  });

  it('accepts a valid regex selector', () => {
    const t = loadProviderTemplate(withAt(['response', 'refreshToken'], { match: 'refresh.[tT]oken' }));
    expect(t.response.refreshToken).toEqual({ match: 'refresh.[tT]oken' });
  });

  it('validates a variable pattern exactly as it is used (anchored)', () => {
    // Invalid alone but valid once wrapped: `^(?:a)|(b)$` would accept anything starting with `a`.
    const e = loadError(withAt(['variables', 'region'], { description: 'r', pattern: 'a)|(b' }));
    expect(e.path).toBe('$.variables.region.pattern');
  });
});

describe('loadProviderTemplate: placeholders', () => {
  const vars = { region: minimal.variables.region, x: { description: 'free text' } };
  const at = (path: string[], value: unknown) => ({ ...withAt(path, value), variables: vars });

  it.each([
    ['url: endpoints.token', ['endpoints', 'token'], 'https://${nope}/t', '$.endpoints.token'],
    [
      'url: endpoints.discovery',
      ['endpoints', 'discovery'],
      'https://a.com/${nope}',
      '$.endpoints.discovery',
    ],
    ['url: revoke', ['endpoints', 'revoke'], { url: 'https://a.com/${nope}' }, '$.endpoints.revoke.url'],
    [
      'url: userinfo',
      ['endpoints', 'userinfo'],
      { url: 'https://a.com/${nope}', subject: 'id' },
      '$.endpoints.userinfo.url',
    ],
    ['url: issuer', ['authorize', 'issuer'], 'https://a.com/${nope}', '$.authorize.issuer'],
    [
      'url: grant endpoint',
      ['grants', 'refresh_token', 'endpoint'],
      'https://a.com/${nope}',
      '$.grants.refresh_token.endpoint',
    ],
    ['authorize param', ['authorize', 'params'], { org: '${nope}' }, '$.authorize.params.org'],
    [
      'grant param',
      ['grants', 'refresh_token', 'params'],
      { p: '${nope}' },
      '$.grants.refresh_token.params.p',
    ],
    [
      'grant header',
      ['grants', 'refresh_token', 'headers'],
      { h: '${nope}' },
      '$.grants.refresh_token.headers.h',
    ],
    [
      'code header',
      ['grants', 'authorization_code', 'code'],
      { in: 'header', name: 'X-Code', value: '${nope} ${code}' },
      '$.grants.authorization_code.code.value',
    ],
    ['static', ['grants', 'static'], { username: '${nope}', password: 'p' }, '$.grants.static.username'],
    ['usage', ['usage'], { in: 'header', value: 'Token ${nope}' }, '$.usage.value'],
  ])('rejects an undeclared variable in %s', (_, path, value, where) => {
    const e = loadError(at(path as string[], value));
    expect(e.path).toBe(where);
    expect(e.problem).toMatch(/^undeclared variable \$\{nope\}/);
  });

  // Runtime names: allowed in their own scope only.
  it.each([
    ['client_id in an authorize param', ['authorize', 'params'], { cid: '${client_id}' }, true],
    ['client_id in a URL', ['endpoints', 'token'], 'https://a.com/${client_id}', false],
    [
      'code in a code header',
      ['grants', 'authorization_code', 'code'],
      { in: 'header', name: 'X', value: 'Code ${code}' },
      true,
    ],
    ['code in a grant param', ['grants', 'authorization_code', 'params'], { c: '${code}' }, false],
    ['access_token in usage', ['usage'], { in: 'query', name: 't', value: '${access_token}' }, true],
    [
      'access_token in a grant header',
      ['grants', 'refresh_token', 'headers'],
      { a: '${access_token}' },
      false,
    ],
    ['a declared variable in usage', ['usage'], { in: 'header', value: '${x} ${access_token}' }, true],
  ])('%s: allowed=%s', (_, path, value, allowed) => {
    const input = at(path as string[], value);
    if (allowed) expect(() => loadProviderTemplate(input)).not.toThrow();
    else expect(loadError(input).problem).toMatch(/^undeclared variable/);
  });

  it.each([
    ['grant param', ['grants', 'refresh_token', 'params'], { k: '${secret.api_key}' }, true],
    ['grant header', ['grants', 'refresh_token', 'headers'], { k: '${secret.api_key}' }, true],
    [
      'code header',
      ['grants', 'authorization_code', 'code'],
      { in: 'header', name: 'X', value: '${secret.k} ${code}' },
      true,
    ],
    ['static', ['grants', 'static'], { username: '${secret.user}', password: '${secret.pass}' }, true],
    ['url', ['endpoints', 'token'], 'https://a.com/${secret.k}', false],
    ['authorize param', ['authorize', 'params'], { k: '${secret.k}' }, false],
    ['usage', ['usage'], { in: 'basic', username: '${secret.k}' }, false],
  ])('${secret.x} in a %s: allowed=%s', (_, path, value, allowed) => {
    const input = at(path as string[], value);
    if (allowed) expect(() => loadProviderTemplate(input)).not.toThrow();
    else expect(loadError(input).problem).toMatch(/secrets are not allowed here/);
  });

  it.each(['${secret.client-id}', '${ x }', '${x', 'a${}b'])(
    'rejects the malformed placeholder %s',
    (value) => {
      const e = loadError(at(['grants', 'refresh_token', 'params'], { p: value }));
      expect(e.path).toBe('$.grants.refresh_token.params.p');
      expect(e.problem).toMatch(/malformed placeholder/);
    },
  );

  it('requires every URL variable to declare an enum or a pattern', () => {
    const e = loadError({
      ...minimal,
      variables: { ...vars, tenant: { description: 't' } },
      endpoints: { ...minimal.endpoints, revoke: { url: 'https://api.acme.com/${tenant}/revoke' } },
    });
    expect(e.path).toBe('$.variables.tenant');
    expect(e.problem).toMatch(/used in a URL and must declare an enum or a pattern/);
  });

  it.each([
    'http://login.acme.com/token',
    'ftp://login.acme.com/token',
    '${region}/token',
    '//login.acme.com/token',
    'http://${region}/token',
    'http://127.0.0.1.evil.com/token',
    'HTTPS://login.acme.com/token',
  ])('rejects the scheme of %s', (url) => {
    const e = loadError({ ...minimal, endpoints: { ...minimal.endpoints, token: url } });
    expect(e.path).toBe('$.endpoints.token');
    expect(e.problem).toMatch(/must start with https:\/\//);
  });

  it.each(['https://login.acme.com/t', 'http://127.0.0.1:8080/t', 'http://localhost/t', 'http://[::1]:9/t'])(
    'accepts %s',
    (url) => {
      expect(
        loadProviderTemplate({ ...minimal, endpoints: { ...minimal.endpoints, token: url } }).endpoints.token,
      ).toBe(url);
    },
  );
});

describe('loadProviderTemplate: variable declarations', () => {
  it.each([
    [{ description: 'r', type: 'number', default: 'x' }, /must be a number/],
    [{ description: 'r', enum: ['a.com', 'b.com'], default: 'c.com' }, /must be one of "a.com", "b.com"/],
    [{ description: 'r', pattern: '[a-z]+\\.com', default: 'evil.com/x?' }, /must match the pattern/],
    [{ description: 'r', type: 'boolean', default: 'true' }, /must be a boolean/],
  ])('rejects the default of %j', (spec, problem) => {
    const e = loadError({ ...minimal, variables: { region: spec } });
    expect(e.path).toBe('$.variables.region.default');
    expect(e.problem).toMatch(problem);
  });

  it('rejects enum values of the wrong type', () => {
    const e = loadError({
      ...minimal,
      variables: { region: { description: 'r', type: 'number', enum: [1, 'two'] } },
    });
    expect(e.path).toBe('$.variables.region.enum[1]');
  });

  it('rejects a required variable with a default', () => {
    const e = loadError({
      ...minimal,
      variables: { region: { ...minimal.variables.region, required: true } },
    });
    expect(e.path).toBe('$.variables.region.default');
    expect(e.problem).toMatch(/required variable cannot have a default/);
  });
});

describe('loadProviderTemplate: request shapes', () => {
  it.each(['state', 'redirect_uri', 'code_challenge', 'client_id', 'response_type'])(
    'refuses a directive overriding %s',
    (name) => {
      const e = loadError({ ...minimal, authorize: { params: { [name]: 'x' } } });
      expect(e.path).toBe(`$.authorize.params.${name}`);
    },
  );

  it('refuses body client auth with paramsIn query (client_secret would be in the URL)', () => {
    const e = loadError({
      ...minimal,
      grants: { client_credentials: { clientAuth: 'body', paramsIn: 'query' } },
    });
    expect(e.path).toBe('$.grants.client_credentials.clientAuth');
    expect(
      loadProviderTemplate({
        ...minimal,
        grants: { client_credentials: { clientAuth: 'basic', paramsIn: 'query' } },
      }).grants.client_credentials?.paramsIn,
    ).toBe('query');
  });
});
