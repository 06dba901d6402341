import { TemplateError } from '../../../../functions/core/errors.js';
import { loadProviderTemplate } from '../../../../functions/core/provider/load.js';
import { checkEndpointUrl, resolveProvider } from '../../../../functions/core/provider/resolve.js';
import { thrown } from '../fixtures.js';

const template = loadProviderTemplate(
  {
    id: 'acme',
    name: 'Acme',
    variables: {
      host: {
        description: 'tenant host name',
        pattern: '[a-z0-9-]+(?:\\.[a-z0-9-]+)+',
        required: true,
      },
      region: { description: 'region', enum: ['eu', 'us'], default: 'eu' },
      port: { description: 'port', type: 'number', enum: [443, 8443] },
      beta: { description: 'beta flag', type: 'boolean' },
    },
    endpoints: {
      authorize: 'https://${host}/oauth/authorize',
      token: 'https://${host}/oauth/token',
      revoke: { url: 'https://api.${region}.acme.com/revoke' },
    },
    grants: {
      authorization_code: {},
      client_credentials: { endpoint: 'https://cc.${region}.acme.com/token' },
    },
  },
  'acme.json',
);

function resolveError(vars: Record<string, unknown>, options = {}): TemplateError {
  const e = thrown(() => resolveProvider(template, vars, options));
  expect(e).toBeInstanceOf(TemplateError);
  return e as TemplateError;
}

describe('resolveProvider', () => {
  it('binds variables, applies defaults and resolves every endpoint', () => {
    const p = resolveProvider(template, { host: 'login.acme.com' });
    expect(p.vars).toEqual({ host: 'login.acme.com', region: 'eu' });
    expect(p.endpoints).toMatchObject({
      authorize: 'https://login.acme.com/oauth/authorize',
      token: 'https://login.acme.com/oauth/token',
      revoke: 'https://api.eu.acme.com/revoke',
      grants: { client_credentials: 'https://cc.eu.acme.com/token' },
    });
    expect(p.endpoints.grants.authorization_code).toBeUndefined();
  });

  it('uses the per-grant endpoint override with the given variables', () => {
    const p = resolveProvider(template, { host: 'a.acme.com', region: 'us' });
    expect(p.endpoints.grants.client_credentials).toBe('https://cc.us.acme.com/token');
  });

  it('refuses an unknown variable, naming the known ones', () => {
    const e = resolveError({ host: 'a.acme.com', hots: 'x' });
    expect(e.path).toBe('$.vars.hots');
    expect(e.problem).toMatch(/no variable "hots" \(known: host, region, port, beta\)/);
  });

  it('refuses a missing required variable', () => {
    const e = resolveError({ region: 'us' });
    expect(e.path).toBe('$.vars.host');
    expect(e.problem).toMatch(/is required: tenant host name/);
  });

  it('treats an explicit undefined as not given (the default applies)', () => {
    expect(resolveProvider(template, { host: 'a.acme.com', region: undefined }).vars.region).toBe('eu');
    expect(resolveError({ host: undefined }).path).toBe('$.vars.host');
  });

  it.each([
    [{ host: 42 }, '$.vars.host', /must be a string, got number/],
    [{ host: 'a.acme.com', port: '443' }, '$.vars.port', /must be a number, got string/],
    [{ host: 'a.acme.com', port: 80 }, '$.vars.port', /must be one of 443, 8443/],
    [{ host: 'a.acme.com', beta: 'yes' }, '$.vars.beta', /must be a boolean/],
    [{ host: 'a.acme.com', region: 'ap' }, '$.vars.region', /must be one of "eu", "us"/],
    [{ host: null }, '$.vars.host', /got null/],
  ])('refuses %j', (vars, path, problem) => {
    const e = resolveError(vars);
    expect(e.path).toBe(path);
    expect(e.problem).toMatch(problem);
  });

  it.each(['evil.com/x?', 'a.com#', 'a.com@evil.com', 'evil.com:443', 'a.com\n', 'A.COM', 'a.com/'])(
    'refuses the host-injection value %j through the hostname pattern',
    (host) => {
      const e = resolveError({ host });
      expect(e.path).toBe('$.vars.host');
      expect(e.problem).toMatch(/must match the pattern/);
      expect(e.message).not.toContain(host);
    },
  );

  it('names the integration (source) in errors', () => {
    expect(resolveError({}, { source: 'integrations/acme-eu' }).source).toBe('integrations/acme-eu');
    expect(resolveError({}).source).toBe('acme');
  });
});

describe('resolveProvider: URL checks', () => {
  const loopback = (url: string) =>
    loadProviderTemplate({
      id: 'local',
      name: 'Local',
      endpoints: { token: url },
      grants: { client_credentials: {} },
    });

  it('accepts http only for loopback and only with allowInsecureLoopback', () => {
    for (const url of ['http://127.0.0.1:8080/token', 'http://localhost/token', 'http://[::1]:9000/token']) {
      expect(resolveProvider(loopback(url), {}, { allowInsecureLoopback: true }).endpoints.token).toBe(url);
      const e = thrown(() => resolveProvider(loopback(url), {}));
      expect(e).toBeInstanceOf(TemplateError);
      expect((e as TemplateError).problem).toMatch(/must use https/);
    }
  });

  it.each([
    ['http://login.acme.com/t', { allowInsecureLoopback: true }, /must use https/],
    ['http://localhost.evil.com/t', { allowInsecureLoopback: true }, /must use https/],
    ['http://127.0.0.1.nip.io/t', { allowInsecureLoopback: true }, /must use https/],
    ['ftp://a.com/t', {}, /must use https$/],
    ['https://a.com:99999/t', {}, /not a valid URL/],
  ])('checkEndpointUrl(%s)', (url, options, problem) => {
    expect(checkEndpointUrl(url, options)).toMatch(problem);
  });

  it('refuses credentials in a URL without echoing them', () => {
    expect(checkEndpointUrl('https://user:pa55@a.com/t', {})).toBe('must not carry credentials');
    const t = loadProviderTemplate({
      id: 'creds',
      name: 'Creds',
      variables: { host: { description: 'h', pattern: '[a-z0-9.:@]+' } },
      endpoints: { token: 'https://${host}/token' },
      grants: { client_credentials: {} },
    });
    const e = thrown(() => resolveProvider(t, { host: 'user:pa55@a.com' })) as TemplateError;
    expect(e).toBeInstanceOf(TemplateError);
    expect(e.path).toBe('$.endpoints.token');
    expect(e.problem).toMatch(/must not carry credentials/);
    expect(e.message).not.toContain('pa55');
  });

  it('names the URL whose variable has no value', () => {
    const t = loadProviderTemplate({
      id: 'opt',
      name: 'Opt',
      variables: { tenant: { description: 't', pattern: '[a-z]+' } },
      endpoints: { token: 'https://login.acme.com/${tenant}/token' },
      grants: { client_credentials: {} },
    });
    const e = thrown(() => resolveProvider(t, {})) as TemplateError;
    expect(e.path).toBe('$.endpoints.token');
    expect(e.problem).toMatch(/needs variable tenant/);
  });
});
