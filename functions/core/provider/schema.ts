/**
 * The provider template schema: one vendor's OAuth behaviour as validated data.
 * Every object is strict, so a typo in a key fails to load instead of being ignored.
 * Strings may contain `${name}` placeholders; which names are allowed depends on where the string sits
 * (see `placeholders.ts`), and the loader rejects undeclared ones.
 */
import { z } from 'zod';

const templateString = z.string().min(1);

const metadataNameSchema = z.string().regex(/^[A-Za-z][A-Za-z0-9_]*$/, 'a metadata name');

/** ECMAScript regex (`u` flag) a whole value must match; anchors are added. */
const wholeValuePattern = z
  .string()
  .min(1)
  .superRefine((pattern, ctx) => {
    try {
      new RegExp(pattern, 'u');
      new RegExp(`^(?:${pattern})$`, 'u');
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: `not a valid regular expression (${(e as Error).message})` });
    }
  });

/** A declared template variable (`region`, `realm`, `orgName`, `idsHost`, ...). */
export const variableSchema = z
  .strictObject({
    type: z.enum(['string', 'number', 'boolean']).default('string'),
    description: z.string().min(1),
    enum: z
      .array(z.union([z.string(), z.number()]))
      .min(1)
      .optional(),
    /** ECMAScript regex the whole value must match (anchors are added when missing). */
    pattern: z.string().min(1).optional(),
    default: z.union([z.string(), z.number(), z.boolean()]).optional(),
    /** An integration must give a value (no default applies). */
    required: z.boolean().default(false),
  })
  .superRefine((v, ctx) => {
    if (v.pattern !== undefined) {
      try {
        // Alone first: `a)|(b` only compiles once wrapped, and then matches anything starting with `a`.
        new RegExp(v.pattern, 'u');
        new RegExp(`^(?:${v.pattern})$`, 'u');
      } catch (e) {
        ctx.addIssue({
          code: 'custom',
          path: ['pattern'],
          message: `not a valid regular expression (${(e as Error).message})`,
        });
      }
    }
    if (v.enum && v.type !== 'string' && v.type !== 'number') {
      ctx.addIssue({
        code: 'custom',
        path: ['enum'],
        message: `enum is only allowed for string or number variables`,
      });
    }
  });
export type VariableSpec = z.output<typeof variableSchema>;

/** How the client authenticates at the token endpoint. https://www.rfc-editor.org/rfc/rfc6749#section-2.3.1 */
export const clientAuthSchema = z.enum(['basic', 'body', 'none', 'private_key_jwt']);
export type ClientAuth = z.infer<typeof clientAuthSchema>;

/** Extra request parameters; values are templates. */
const paramsSchema = z.record(z.string().min(1), templateString);

/** Common to every request a grant makes at a token endpoint. */
const tokenRequestShape = {
  /** The literal `grant_type` value sent to the vendor. */
  grantType: z.string().min(1),
  /** HTTP method of the token request; `GET` needs `paramsIn: query` (a vendor that wants one). */
  method: z.enum(['POST', 'GET']).default('POST'),
  /** Overrides `endpoints.token` for this grant. */
  endpoint: templateString.optional(),
  clientAuth: clientAuthSchema.default('basic'),
  /** `none` client auth still sends `client_id` in the body; some vendors also want it with Basic. */
  sendClientIdInBody: z.boolean().optional(),
  bodyEncoding: z.enum(['form', 'json']).default('form'),
  /** Where `params` (and the standard parameters) go: the request body, or the query string (Zoom). */
  paramsIn: z.enum(['body', 'query']).default('body'),
  params: paramsSchema.default({}),
  /** Extra request headers; values are templates. */
  headers: paramsSchema.default({}),
  /** Whether connections obtained through this grant may use the `refresh_token` grant. */
  refreshable: z.boolean().optional(),
};

/** Where the token request carries the authorization code. */
const codeTransportSchema = z.discriminatedUnion('in', [
  z.strictObject({ in: z.literal('body'), name: z.string().min(1).default('code') }),
  z.strictObject({ in: z.literal('query'), name: z.string().min(1).default('code') }),
  /** A header whose value is a template over `${code}`, e.g. `Authorization: Code ${code}`. */
  z.strictObject({
    in: z.literal('header'),
    name: z.string().min(1),
    value: templateString.default('${code}'),
  }),
]);

const pkceSchema = z.strictObject({
  method: z.literal('S256').default('S256'),
  /** `always`: every client; `public-client`: only clients without a secret (Genesys, RingCentral). */
  when: z.enum(['always', 'public-client']).default('always'),
});

export const authorizationCodeGrantSchema = z.strictObject({
  ...tokenRequestShape,
  grantType: z.string().min(1).default('authorization_code'),
  /** Name of the query parameter that carries the code in the authorization response. */
  responseCodeParam: z.string().min(1).default('code'),
  code: codeTransportSchema.default({ in: 'body', name: 'code' }),
  /** Client auth for public clients (no secret), used with PKCE. */
  publicClientAuth: clientAuthSchema.default('none'),
  pkce: pkceSchema.optional(),
});

export const refreshTokenGrantSchema = z.strictObject({
  ...tokenRequestShape,
  grantType: z.string().min(1).default('refresh_token'),
  /** Name of the request parameter carrying the refresh token (`token`, `refresh-token`, ...). */
  refreshTokenParam: z.string().min(1).default('refresh_token'),
  publicClientAuth: clientAuthSchema.default('none'),
});

export const clientCredentialsGrantSchema = z.strictObject({
  ...tokenRequestShape,
  grantType: z.string().min(1).default('client_credentials'),
});

/** RFC 7522 SAML 2.0 bearer assertion grant. https://www.rfc-editor.org/rfc/rfc7522#section-2.1 */
export const saml2BearerGrantSchema = z.strictObject({
  ...tokenRequestShape,
  grantType: z.string().min(1).default('urn:ietf:params:oauth:grant-type:saml2-bearer'),
  /**
   * How the assertion is encoded in the `assertion` parameter: RFC 7522 says base64url of the Assertion;
   * Genesys takes standard base64 of the whole posted SAMLResponse (`response-base64`).
   */
  assertionFormat: z.enum(['base64url', 'base64', 'response-base64']).default('base64url'),
  assertionParam: z.string().min(1).default('assertion'),
});

/** Where a JWT-bearer assertion comes from. */
const jwtAssertionSourceSchema = z.discriminatedUnion('source', [
  /** The caller supplies it (a service with its own signed assertion). */
  z.strictObject({ source: z.literal('caller') }),
  /** A JWT credential the vendor's console issued, kept in the integration's secret (RingCentral JWT). */
  z.strictObject({ source: z.literal('secret'), field: z.string().min(1).default('jwt') }),
  /**
   * tokenvend signs it with the secret's `private_key` (`clientAssertion.alg`); claim values are templates over
   * variables, `client_id` and `${secret.*}`. `iat`, `exp` and `jti` are added.
   */
  z.strictObject({
    source: z.literal('signed'),
    claims: z.record(z.string().min(1), templateString),
    lifetimeSeconds: z.number().int().min(30).max(3600).default(300),
  }),
]);

/** RFC 7523 JWT bearer grant (RingCentral's JWT flow). https://www.rfc-editor.org/rfc/rfc7523#section-2.1 */
export const jwtBearerGrantSchema = z.strictObject({
  ...tokenRequestShape,
  grantType: z.string().min(1).default('urn:ietf:params:oauth:grant-type:jwt-bearer'),
  assertionParam: z.string().min(1).default('assertion'),
  assertion: jwtAssertionSourceSchema.default({ source: 'caller' }),
});

/** Resource owner password grant (legacy; RFC 9700 discourages it). */
export const passwordGrantSchema = z.strictObject({
  ...tokenRequestShape,
  grantType: z.string().min(1).default('password'),
});

/**
 * Static credentials: no token endpoint at all. `basic`: `Basic base64(user:password)`; `token`: an API key or
 * personal access token, sent the way the template's `usage` says (`X-Api-Key: ...`, `Token token=...`).
 */
export const staticGrantSchema = z.union([
  z.strictObject({
    scheme: z.literal('basic').default('basic'),
    /** Template over `${secret.*}` and variables. */
    username: templateString,
    password: templateString,
  }),
  z.strictObject({
    scheme: z.literal('token'),
    /** Template over `${secret.*}` and variables. */
    token: templateString,
    /** The `${token_type}` of the usage template. */
    tokenType: z.string().min(1).default('Token'),
  }),
]);
export type StaticGrantSpec = z.output<typeof staticGrantSchema>;

/**
 * Per-user credentials (Cisco Finesse without SSO): each user posts their own username and password to
 * `POST /connect/{integration}/credentials`; tokenvend checks them once against `verify` with Basic and
 * stores them encrypted like tokens. No token endpoint.
 */
export const userCredentialsGrantSchema = z.strictObject({
  scheme: z.literal('basic').default('basic'),
  username: z.strictObject({
    /** ECMAScript regex the whole username must match (it is placed into the verify URL). */
    pattern: wholeValuePattern,
  }),
  verify: z.strictObject({
    /** Template over variables and `${username}` (URL-encoded). */
    url: templateString,
    method: z.literal('GET').default('GET'),
  }),
});

export const grantsSchema = z
  .strictObject({
    authorization_code: authorizationCodeGrantSchema.optional(),
    refresh_token: refreshTokenGrantSchema.optional(),
    client_credentials: clientCredentialsGrantSchema.optional(),
    saml2_bearer: saml2BearerGrantSchema.optional(),
    jwt_bearer: jwtBearerGrantSchema.optional(),
    password: passwordGrantSchema.optional(),
    static: staticGrantSchema.optional(),
    user_credentials: userCredentialsGrantSchema.optional(),
  })
  .refine((g) => Object.values(g).some((v) => v !== undefined), { message: 'declare at least one grant' });
export type GrantsSpec = z.output<typeof grantsSchema>;
export type GrantName = keyof GrantsSpec;
/** Grants that obtain tokens at a token endpoint (not `static` or `user_credentials`). */
export type TokenGrantName = Exclude<GrantName, 'static' | 'user_credentials'>;
/** Grants whose credentials need no token endpoint. */
export const CREDENTIAL_GRANTS = ['static', 'user_credentials'] as const;

/** Picks one response field: a dot path (`data.access_token`) or a regex over top-level names. */
export const fieldSelectorSchema = z.union([
  z.string().min(1),
  z.strictObject({ path: z.string().min(1) }),
  z.strictObject({
    /** ECMAScript regex over top-level field names, anchored and compiled with `u` as response-mapping.ts does. */
    match: z
      .string()
      .min(1)
      .superRefine((match, ctx) => {
        try {
          new RegExp(match, 'u');
          new RegExp(`^(?:${match})$`, 'u');
        } catch (e) {
          ctx.addIssue({
            code: 'custom',
            message: `not a valid regular expression (${(e as Error).message})`,
          });
        }
      }),
  }),
]);
export type FieldSelector = z.infer<typeof fieldSelectorSchema>;

const metadataFieldSchema = z.strictObject({
  field: fieldSelectorSchema,
  pattern: wholeValuePattern.optional(),
});

/** How an expiry field is expressed. */
const expirySchema = z.strictObject({
  field: fieldSelectorSchema,
  /** `relative`: seconds from now; `epoch-seconds` / `epoch-millis`: absolute; `iso8601`: absolute date. */
  /**
   * `relative`: seconds from now; `relative-millis`: milliseconds from now; `epoch-seconds` / `epoch-millis`:
   * absolute; `iso8601`: absolute date.
   */
  format: z
    .enum(['relative', 'relative-millis', 'epoch-seconds', 'epoch-millis', 'iso8601'])
    .default('relative'),
});

export const responseMappingSchema = z.strictObject({
  accessToken: fieldSelectorSchema.default('access_token'),
  refreshToken: fieldSelectorSchema.default('refresh_token'),
  tokenType: fieldSelectorSchema.default('token_type'),
  expiresIn: expirySchema.default({ field: 'expires_in', format: 'relative' }),
  refreshExpiresIn: expirySchema.optional(),
  scope: fieldSelectorSchema.default('scope'),
  subject: fieldSelectorSchema.optional(),
  idToken: fieldSelectorSchema.default('id_token'),
  /** Fall back to the access token's JWT `exp` claim when no field carries an expiry. */
  expiryFromJwt: z.boolean().default(true),
  /** Used when the response names no token type. */
  defaultTokenType: z.string().min(1).default('Bearer'),
  /**
   * Token-response fields kept on the connection and returned by `/vend` (Salesforce `instance_url`, Zoom
   * `api_url`): name -> selector, or `{field, pattern}` when the value must match (required for use in URLs).
   */
  metadata: z.record(metadataNameSchema, z.union([fieldSelectorSchema, metadataFieldSchema])).default({}),
});
export type ResponseMapping = z.output<typeof responseMappingSchema>;

const refreshAtSchema = z.discriminatedUnion('kind', [
  /** Refresh this many seconds before the access token expires. */
  z.strictObject({ kind: z.literal('before-expiry'), seconds: z.number().int().min(0) }),
  /** Refresh once this fraction of the lifetime has passed (Finesse: 0.75). */
  z.strictObject({ kind: z.literal('lifetime-fraction'), fraction: z.number().gt(0).lt(1) }),
]);

export const refreshPolicySchema = z.strictObject({
  /** The vendor issues a new refresh token on every refresh and invalidates the old one. */
  rotates: z.boolean().default(false),
  /** Seconds the replaced refresh token keeps working after rotation (RingCentral ~10). */
  reuseGraceSeconds: z.number().int().min(0).default(0),
  refreshAt: refreshAtSchema.default({ kind: 'before-expiry', seconds: 60 }),
  /** Refreshing more often than this returns the same token or is refused (Webex). */
  minIntervalSeconds: z.number().int().min(0).default(0),
  /** An unused refresh token lapses after this many seconds (RingCentral 7 days, sipgate 30 days). */
  refreshTokenIdleSeconds: z.number().int().positive().optional(),
});
export type RefreshPolicy = z.output<typeof refreshPolicySchema>;

/** How an API call carries the token. Values are templates over `${access_token}` and `${token_type}`. */
export const tokenUsageSchema = z.discriminatedUnion('in', [
  z.strictObject({
    in: z.literal('header'),
    name: z.string().min(1).default('Authorization'),
    value: templateString.default('${token_type} ${access_token}'),
  }),
  z.strictObject({
    in: z.literal('query'),
    name: z.string().min(1),
    value: templateString.default('${access_token}'),
  }),
  z.strictObject({ in: z.literal('basic'), username: templateString, password: templateString.default('') }),
]);
export type TokenUsage = z.output<typeof tokenUsageSchema>;

const revokeSchema = z.strictObject({
  url: templateString,
  method: z.enum(['POST', 'DELETE']).default('POST'),
  /** `client`: RFC 7009 form post with client auth and `token=`; `bearer`: the access token authenticates itself. */
  auth: z.enum(['client', 'bearer']).default('client'),
  clientAuth: clientAuthSchema.default('basic'),
  /** Which token RFC 7009 revocation sends. */
  token: z.enum(['refresh_token', 'access_token']).default('refresh_token'),
});

const userinfoSchema = z.strictObject({
  url: templateString,
  /** Field of the JSON answer that holds the vendor's user id. */
  subject: fieldSelectorSchema,
});

export const endpointsSchema = z.strictObject({
  authorize: templateString.optional(),
  token: templateString.optional(),
  revoke: revokeSchema.optional(),
  userinfo: userinfoSchema.optional(),
  /** OIDC discovery document; the `oauth2` provider can take its endpoints from here. */
  discovery: templateString.optional(),
  /**
   * OpenID Connect: the JWKS that signs the vendor's ID tokens. Declaring it makes the provider OIDC: the
   * authorization request carries a `nonce`, and the code's `id_token` is checked (signature, `iss` =
   * `authorize.issuer`, `aud` = client_id, `exp`, nonce) before anything is stored. Without it, ID tokens are
   * never stored.
   */
  jwks: templateString.optional(),
});

export const authorizeSchema = z.strictObject({
  /** Extra query parameters of the authorization request (Genesys `org`, `provider`; RingCentral `brandId`). */
  params: paramsSchema.default({}),
  scopeDelimiter: z.string().min(1).default(' '),
  defaultScopes: z.array(z.string().min(1)).default([]),
  /** RFC 9207: the vendor's issuer identifier. When set, a mismatching `iss` is rejected. */
  issuer: templateString.optional(),
  /** RFC 9207: the vendor always sends `iss`; a response without it is rejected. */
  issParameterSupported: z.boolean().default(false),
  /**
   * Values the vendor adds to the redirect back (Zoho `accounts-server`, a PBX host): kept as connection
   * metadata under the given name. The pattern is required: these arrive from the browser.
   */
  callbackParams: z
    .record(
      metadataNameSchema,
      z.strictObject({
        param: z.string().min(1),
        pattern: wholeValuePattern,
        required: z.boolean().default(false),
        /**
         * The value picks an enum variable's value for this connection (Zoho's `accounts-server` picks its data
         * centre): every later vendor call of the connection (refresh, revoke, the API base) uses it. Only the listed
         * values select; any other keeps the integration's own.
         */
        selects: z
          .strictObject({
            variable: z.string().min(1),
            values: z.record(z.string().min(1), z.union([z.string(), z.number()])),
          })
          .optional(),
      }),
    )
    .default({}),
});

/** Where the vendor's API lives, so consumers (and the proxy) know where to send the token. */
export const apiSchema = z.strictObject({
  /** URL template over variables and `${metadata.<name>}`. */
  baseUrl: templateString,
});

/** `private_key_jwt` client authentication. https://www.rfc-editor.org/rfc/rfc7523#section-2.2 */
export const clientAssertionSchema = z.strictObject({
  alg: z.enum(['RS256', 'PS256', 'ES256']).default('RS256'),
  /** URL template; the token endpoint when unset. */
  audience: templateString.optional(),
  lifetimeSeconds: z.number().int().min(60).max(600).default(300),
});

export const providerTemplateSchema = z
  .strictObject({
    $schema: z.string().optional(),
    id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lowercase letters, digits and dashes'),
    name: z.string().min(1),
    documentation: z.string().url().optional(),
    variables: z
      .record(z.string().regex(/^[A-Za-z][A-Za-z0-9_]*$/, 'a variable name'), variableSchema)
      .default({}),
    endpoints: endpointsSchema,
    authorize: authorizeSchema.default({
      params: {},
      scopeDelimiter: ' ',
      defaultScopes: [],
      issParameterSupported: false,
      callbackParams: {},
    }),
    grants: grantsSchema,
    response: responseMappingSchema.default(() => responseMappingSchema.parse({})),
    refresh: refreshPolicySchema.default(() => refreshPolicySchema.parse({})),
    api: apiSchema.optional(),
    clientAssertion: clientAssertionSchema.optional(),
    usage: tokenUsageSchema.default({
      in: 'header',
      name: 'Authorization',
      value: '${token_type} ${access_token}',
    }),
    /** Access token lifetime assumed when neither a field nor a JWT `exp` gives one. */
    defaultAccessTokenSeconds: z.number().int().positive().optional(),
    /** Refresh token lifetime assumed when the response does not say. */
    defaultRefreshTokenSeconds: z.number().int().positive().optional(),
  })
  .superRefine((t, ctx) => {
    if (t.grants.authorization_code && !t.endpoints.authorize && !t.endpoints.discovery) {
      ctx.addIssue({
        code: 'custom',
        path: ['endpoints', 'authorize'],
        message: 'authorization_code needs an authorize endpoint',
      });
    }
    if (t.endpoints.jwks && !t.authorize.issuer && !t.endpoints.discovery) {
      ctx.addIssue({
        code: 'custom',
        path: ['authorize', 'issuer'],
        message: 'endpoints.jwks (OpenID Connect) needs the issuer its ID tokens name',
      });
    }
    const tokenGrants = (Object.keys(t.grants) as GrantName[]).filter(
      (g) => !(CREDENTIAL_GRANTS as readonly string[]).includes(g) && t.grants[g],
    );
    for (const g of tokenGrants) {
      const spec = t.grants[g as TokenGrantName];
      if (!spec?.endpoint && !t.endpoints.token && !t.endpoints.discovery) {
        ctx.addIssue({
          code: 'custom',
          path: ['endpoints', 'token'],
          message: `grant ${g} needs a token endpoint`,
        });
      }
    }
  });

export type ProviderTemplate = z.output<typeof providerTemplateSchema>;
export type ProviderTemplateInput = z.input<typeof providerTemplateSchema>;
