/** The RFC 8693 token request parser and the RFC 8414 metadata (core/flows/token-exchange.ts). */
import { TokenvendError } from '../../../../functions/core/errors.js';
import {
  ACCESS_TOKEN_TYPE,
  JWT_TOKEN_TYPE,
  MAX_PARAMETER_LENGTH,
  MAX_PARAMETERS,
  MAX_SUBJECT_TOKEN_LENGTH,
  oauthServerMetadata,
  parseTokenExchangeRequest,
  TOKEN_EXCHANGE_GRANT_TYPE,
} from '../../../../functions/core/flows/token-exchange.js';
import { tok } from '../../providers/support.js';

const FORM = 'application/x-www-form-urlencoded';

function form(params: Record<string, string> | [string, string][]): string {
  return new URLSearchParams(params).toString();
}

function base(subjectToken = tok('jwt')): Record<string, string> {
  return {
    grant_type: TOKEN_EXCHANGE_GRANT_TYPE,
    subject_token: subjectToken,
    subject_token_type: JWT_TOKEN_TYPE,
    audience: 'genesys-eu',
  };
}

function refusal(
  body: string,
  contentType: string | undefined = FORM,
  authorization?: string,
): { status: number; error: string; message: string; challenge?: string } {
  try {
    parseTokenExchangeRequest(contentType, body, authorization);
  } catch (e) {
    if (!(e instanceof TokenvendError)) throw e;
    const challenge = (e as { wwwAuthenticate?: string }).wwwAuthenticate;
    return {
      status: e.status,
      error: e.error,
      message: e.message,
      ...(e.status === 401 && challenge ? { challenge } : {}),
    };
  }
  throw new Error('expected a refusal');
}

describe('parseTokenExchangeRequest', () => {
  it('reads subject_token and the integration from audience or resource', () => {
    const subject = tok('jwt');
    expect(parseTokenExchangeRequest(FORM, form(base(subject)))).toEqual({
      subjectToken: subject,
      integration: 'genesys-eu',
    });
    const { audience: _, ...rest } = base(subject);
    expect(
      parseTokenExchangeRequest(
        `${FORM}; charset=UTF-8`,
        form({
          ...rest,
          subject_token_type: ACCESS_TOKEN_TYPE,
          resource: 'urn:tokenvend:integration:genesys-eu',
          requested_token_type: ACCESS_TOKEN_TYPE,
          client_id: 'my-spa',
          scope: 'ignored',
          unknown_extension: 'ignored',
        }),
      ),
    ).toEqual({ subjectToken: subject, integration: 'genesys-eu' });
  });

  it('treats empty values as absent (RFC 6749 §3.2)', () => {
    const body = form({ ...base(), requested_token_type: '', actor_token: '', resource: '' });
    expect(parseTokenExchangeRequest(FORM, body).integration).toBe('genesys-eu');
    expect(refusal(form({ ...base(), subject_token: '' }))).toMatchObject({
      error: 'invalid_request',
      message: 'subject_token is required',
    });
  });

  it.each([
    ['application/json', 415],
    ['application/x-www-form-urlencoded-foo', 415],
    ['text/plain', 415],
    ['multipart/form-data; boundary=x', 415],
  ])('refuses the media type %s', (type, status) => {
    expect(refusal(form(base()), type)).toMatchObject({ status, error: 'invalid_request' });
  });

  it('refuses a missing content type', () => {
    expect(() => parseTokenExchangeRequest(undefined, form(base()))).toThrow(
      expect.objectContaining({ status: 415, error: 'invalid_request' }),
    );
  });

  it.each<[string, Record<string, string> | [string, string][], number, string]>([
    ['no grant_type', { subject_token: 'x' }, 400, 'invalid_request'],
    ['another grant type', { ...base(), grant_type: 'client_credentials' }, 400, 'unsupported_grant_type'],
    [
      'a grant type that only starts alike',
      { ...base(), grant_type: `${TOKEN_EXCHANGE_GRANT_TYPE}x` },
      400,
      'unsupported_grant_type',
    ],
    ['no subject_token_type', { ...base(), subject_token_type: '' }, 400, 'invalid_request'],
    [
      'an id_token subject',
      { ...base(), subject_token_type: 'urn:ietf:params:oauth:token-type:id_token' },
      400,
      'invalid_request',
    ],
    [
      'a SAML subject',
      { ...base(), subject_token_type: 'urn:ietf:params:oauth:token-type:saml2' },
      400,
      'invalid_request',
    ],
    [
      'a refresh token requested',
      { ...base(), requested_token_type: 'urn:ietf:params:oauth:token-type:refresh_token' },
      400,
      'invalid_request',
    ],
    [
      'an actor token',
      { ...base(), actor_token: tok('jwt'), actor_token_type: JWT_TOKEN_TYPE },
      400,
      'invalid_request',
    ],
    ['an actor token type alone', { ...base(), actor_token_type: JWT_TOKEN_TYPE }, 400, 'invalid_request'],
    ['a client secret', { ...base(), client_id: 'x', client_secret: tok('sec') }, 400, 'invalid_client'],
    ['a client assertion', { ...base(), client_assertion: tok('jwt') }, 400, 'invalid_client'],
    [
      'a repeated parameter',
      [...Object.entries(base()), ['subject_token_type', JWT_TOKEN_TYPE]],
      400,
      'invalid_request',
    ],
    [
      'a repeated unknown parameter',
      [...Object.entries(base()), ['x', '1'], ['x', '2']],
      400,
      'invalid_request',
    ],
    ['no target', { ...base(), audience: '' }, 400, 'invalid_target'],
    [
      'audience and resource',
      { ...base(), resource: 'urn:tokenvend:integration:genesys-eu' },
      400,
      'invalid_target',
    ],
    ['two audiences', [...Object.entries(base()), ['audience', 'other']], 400, 'invalid_target'],
    [
      'two resources',
      [
        ...Object.entries(base()).filter(([k]) => k !== 'audience'),
        ['resource', 'urn:tokenvend:integration:a'],
        ['resource', 'urn:tokenvend:integration:b'],
      ],
      400,
      'invalid_target',
    ],
    [
      'a resource of another form',
      { ...base(), audience: '', resource: 'https://api.example.com/genesys-eu' },
      400,
      'invalid_target',
    ],
    [
      'a resource with the prefix in another case',
      { ...base(), audience: '', resource: 'URN:tokenvend:integration:genesys-eu' },
      400,
      'invalid_target',
    ],
  ])('refuses %s', (_what, params, status, error) => {
    expect(refusal(form(params))).toMatchObject({ status, error });
  });

  it('checks the grant type first: another grant is unsupported_grant_type whatever else is wrong', () => {
    expect(refusal(form({ grant_type: 'password', username: 'u' }))).toMatchObject({
      error: 'unsupported_grant_type',
    });
  });

  it('answers client authentication in the Authorization header with 401 invalid_client and its scheme', () => {
    expect(refusal(form(base()), FORM, `Basic ${Buffer.from('a:b').toString('base64')}`)).toEqual({
      status: 401,
      error: 'invalid_client',
      message: expect.any(String),
      challenge: 'Basic realm="tokenvend"',
    });
    expect(refusal(form(base()), FORM, `Bearer ${tok('jwt')}`)).toMatchObject({
      status: 401,
      challenge: 'Bearer realm="tokenvend"',
    });
  });

  it('bounds every value and the number of parameters', () => {
    const atLimit = 'a'.repeat(MAX_SUBJECT_TOKEN_LENGTH);
    expect(parseTokenExchangeRequest(FORM, form(base(atLimit))).subjectToken).toBe(atLimit);
    expect(refusal(form(base(`${atLimit}a`)))).toMatchObject({
      error: 'invalid_request',
      message: 'subject_token is too long',
    });
    expect(refusal(form({ ...base(), audience: 'a'.repeat(MAX_PARAMETER_LENGTH + 1) }))).toMatchObject({
      error: 'invalid_request',
      message: 'audience is too long',
    });
    const many = [
      ...Object.entries(base()),
      ...Array.from({ length: MAX_PARAMETERS }, (_, i): [string, string] => [`p${i}`, 'x']),
    ];
    expect(refusal(form(many))).toMatchObject({ error: 'invalid_request', message: 'too many parameters' });
  });

  it('never repeats the subject token or an unknown parameter name in a message', () => {
    const secret = tok('jwt');
    const messages = [
      refusal(form({ ...base(secret), subject_token_type: secret })).message,
      refusal(form([...Object.entries(base(secret)), [secret, '1'], [secret, '2']])).message,
      refusal(form({ ...base(secret), audience: '', resource: secret })).message,
      refusal(form({ ...base(secret), grant_type: secret })).message,
    ];
    for (const message of messages) expect(message).not.toContain(secret);
  });
});

describe('oauthServerMetadata (RFC 8414 §2)', () => {
  it('names the issuer, the token endpoint, the grant and no client authentication', () => {
    for (const base of ['https://tokenvend.example.com', 'https://tokenvend.example.com/']) {
      expect(oauthServerMetadata(base)).toEqual({
        issuer: 'https://tokenvend.example.com',
        token_endpoint: 'https://tokenvend.example.com/oauth2/token',
        grant_types_supported: [TOKEN_EXCHANGE_GRANT_TYPE],
        token_endpoint_auth_methods_supported: ['none'],
        response_types_supported: [],
      });
    }
  });
});
