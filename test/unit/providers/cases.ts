/**
 * One case per built-in provider: sample variables, and per grant the vendor's token endpoint, the wire
 * shape it expects and a vendor-shaped success answer (shapes from /work/shared/vendor-facts.md and the
 * vendors' public docs). Tokens are generated per call; nothing here is a real credential.
 */
import type { TokenGrantName } from '../../../functions/core/provider/schema.js';
import { crmCases } from './cases-crm.js';
import { workspaceCases } from './cases-workspace.js';
import { tok } from './support.js';

export interface GrantCase {
  /** The vendor's token endpoint, without query. */
  url: string;
  /** The literal `grant_type` the vendor must receive. */
  grantType: string;
  /** How the client authenticates: Basic header, `client_id` + `client_secret` parameters. */
  auth: 'basic' | 'body';
  encoding: 'form' | 'json' | 'query';
  /** Template parameters the vendor must receive besides the grant's own. */
  params?: Record<string, string>;
  /** A success answer as the vendor sends it. */
  response: () => Record<string, unknown>;
  /** What the TokenSet must say about expiry (seconds from now) and refresh token lifetime. */
  expiresIn?: number | undefined;
  refreshExpiresIn?: number | undefined;
}

export interface ProviderCase {
  vars: Record<string, unknown>;
  grants: Partial<Record<TokenGrantName, GrantCase>>;
  /** Secret fields the static grant reads, and the Basic user/password it must produce. */
  static?: () => { secret: Record<string, string>; username: string; password: string };
  /** `grants.user_credentials`: a username the template accepts and the verify URL it must produce for it. */
  userCredentials?: { username: string; verifyUrl: string };
}

const bearer = (extra: Record<string, unknown>) => () => ({
  access_token: tok('at'),
  token_type: 'bearer',
  ...extra,
});
const withRefresh = (extra: Record<string, unknown>) => () => ({
  access_token: tok('at'),
  refresh_token: tok('rt'),
  token_type: 'bearer',
  ...extra,
});

const genesysToken = 'https://login.mypurecloud.ie/oauth/token';
const rcToken = 'https://platform.ringcentral.com/restapi/oauth/token';
const rcTtl = { access_token_ttl: '3600', refresh_token_ttl: '604800' };
const rcAnswer = withRefresh({
  expires_in: 3600,
  refresh_token_expires_in: 604799,
  scope: 'ReadAccounts CallControl',
  owner_id: '2681364004',
  endpoint_id: 'p7GZlEVHRwKpKU5dXjEm2g',
});
const sipgateToken = 'https://login.sipgate.com/auth/realms/sipgate-apps/protocol/openid-connect/token';
const sipgateAnswer = withRefresh({
  expires_in: 300,
  refresh_expires_in: 2592000,
  id_token: tok('idt'),
  session_state: tok('session'),
  'not-before-policy': 0,
  scope: 'all',
});
const idsToken = 'https://ids.cc.example.com:8553/ids/v1/oauth/token';
const oauth2Token = 'https://auth.example.com:8443/realms/acme/token';
const zoomToken = 'https://zoom.us/oauth/token';
const webexToken = 'https://webexapis.com/v1/access_token';
// Webex access tokens live ~12 h (WebexSamples token-app-sample: expires_in 43199), refresh tokens ~90 days.
const webexAnswer = () => ({
  access_token: tok('at'),
  expires_in: 43199,
  refresh_token: tok('rt'),
  refresh_token_expires_in: 7775999,
  token_type: 'Bearer',
});
const talkdeskToken = 'https://acme.talkdeskid.eu/oauth/token';
const zendeskToken = 'https://acme.zendesk.com/oauth/tokens';
/** The template's defaults, sent as JSON strings (template parameters are strings). */
const zendeskLifetimes = { expires_in: '1800', refresh_token_expires_in: '2592000' };
const cxoneToken = 'https://cxone.niceincontact.com/auth/token';
const cxoneAnswer = () => ({
  access_token: tok('at'),
  token_type: 'Bearer',
  expires_in: 3600,
  refresh_token: tok('rt'),
  id_token: tok('idt'),
  issued_token_type: 'urn:ietf:params:oauth:token-type:access_token',
});

const contactCenterCases: Record<string, ProviderCase> = {
  'genesys-cloud': {
    vars: { region: 'mypurecloud.ie', orgName: 'acme' },
    grants: {
      authorization_code: {
        url: genesysToken,
        grantType: 'authorization_code',
        auth: 'basic',
        encoding: 'form',
        response: withRefresh({ expires_in: 86399 }),
        expiresIn: 86399,
      },
      refresh_token: {
        url: genesysToken,
        grantType: 'refresh_token',
        auth: 'basic',
        encoding: 'form',
        response: withRefresh({ expires_in: 86399 }),
        expiresIn: 86399,
      },
      client_credentials: {
        url: genesysToken,
        grantType: 'client_credentials',
        auth: 'basic',
        encoding: 'form',
        response: bearer({ expires_in: 86399 }),
        expiresIn: 86399,
      },
      saml2_bearer: {
        url: genesysToken,
        grantType: 'urn:ietf:params:oauth:grant-type:saml2-bearer',
        auth: 'basic',
        encoding: 'form',
        params: { orgName: 'acme' },
        response: bearer({ expires_in: 3599 }),
        expiresIn: 3599,
      },
    },
  },
  ringcentral: {
    vars: {},
    grants: {
      authorization_code: {
        url: rcToken,
        grantType: 'authorization_code',
        auth: 'basic',
        encoding: 'form',
        params: rcTtl,
        response: rcAnswer,
        expiresIn: 3600,
        refreshExpiresIn: 604799,
      },
      refresh_token: {
        url: rcToken,
        grantType: 'refresh_token',
        auth: 'basic',
        encoding: 'form',
        params: rcTtl,
        response: rcAnswer,
        expiresIn: 3600,
        refreshExpiresIn: 604799,
      },
      jwt_bearer: {
        url: rcToken,
        grantType: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
        auth: 'basic',
        encoding: 'form',
        params: rcTtl,
        response: rcAnswer,
        expiresIn: 3600,
        refreshExpiresIn: 604799,
      },
      password: {
        url: rcToken,
        grantType: 'password',
        auth: 'basic',
        encoding: 'form',
        params: rcTtl,
        response: rcAnswer,
        expiresIn: 3600,
        refreshExpiresIn: 604799,
      },
    },
  },
  sipgate: {
    vars: {},
    grants: {
      authorization_code: {
        url: sipgateToken,
        grantType: 'authorization_code',
        auth: 'body',
        encoding: 'form',
        response: sipgateAnswer,
        expiresIn: 300,
        refreshExpiresIn: 2592000,
      },
      refresh_token: {
        url: sipgateToken,
        grantType: 'refresh_token',
        auth: 'body',
        encoding: 'form',
        response: sipgateAnswer,
        expiresIn: 300,
        refreshExpiresIn: 2592000,
      },
    },
    static: () => {
      const secret = { token_id: tok('token-id'), token: tok('pat') };
      return { secret, username: secret.token_id, password: secret.token };
    },
  },
  'cisco-finesse': {
    vars: { idsHost: 'ids.cc.example.com', finesseHost: 'finesse1.cc.example.com:8445' },
    // Cisco's User—Get: https://<FQDN>/finesse/api/User/<id>, the agent's own Basic credentials.
    userCredentials: {
      username: 'jo.smith@cc.example.com',
      verifyUrl: 'https://finesse1.cc.example.com:8445/finesse/api/User/jo.smith%40cc.example.com',
    },
    grants: {
      authorization_code: {
        url: idsToken,
        grantType: 'authorization_code',
        auth: 'basic',
        encoding: 'form',
        response: withRefresh({ expires_in: 3600 }),
        expiresIn: 3600,
      },
      refresh_token: {
        url: idsToken,
        grantType: 'refresh_token',
        auth: 'basic',
        encoding: 'form',
        response: withRefresh({ expires_in: 3600 }),
        expiresIn: 3600,
      },
    },
    static: () => {
      const secret = { username: 'agent1001', password: tok('pw') };
      return { secret, username: secret.username, password: secret.password };
    },
  },
  oauth2: {
    vars: {
      host: 'auth.example.com:8443',
      authorizePath: '/realms/acme/auth',
      tokenPath: '/realms/acme/token',
    },
    grants: {
      authorization_code: {
        url: oauth2Token,
        grantType: 'authorization_code',
        auth: 'basic',
        encoding: 'form',
        response: withRefresh({ expires_in: 600 }),
        expiresIn: 600,
      },
      refresh_token: {
        url: oauth2Token,
        grantType: 'refresh_token',
        auth: 'basic',
        encoding: 'form',
        response: withRefresh({ expires_in: 600 }),
        expiresIn: 600,
      },
      client_credentials: {
        url: oauth2Token,
        grantType: 'client_credentials',
        auth: 'basic',
        encoding: 'form',
        response: bearer({ expires_in: 600 }),
        expiresIn: 600,
      },
    },
  },
  zoom: {
    vars: { accountId: 'AbCdEf123_-xyz' },
    grants: {
      authorization_code: {
        url: zoomToken,
        grantType: 'authorization_code',
        auth: 'basic',
        encoding: 'form',
        response: withRefresh({ expires_in: 3599, scope: 'user:read:user phone:read:list_calls' }),
        expiresIn: 3599,
      },
      refresh_token: {
        url: zoomToken,
        grantType: 'refresh_token',
        auth: 'basic',
        encoding: 'form',
        response: withRefresh({ expires_in: 3599, scope: 'user:read:user phone:read:list_calls' }),
        expiresIn: 3599,
      },
      client_credentials: {
        url: zoomToken,
        grantType: 'account_credentials',
        auth: 'basic',
        encoding: 'query',
        params: { account_id: 'AbCdEf123_-xyz' },
        response: bearer({ expires_in: 3599, scope: 'phone:read:admin', api_url: 'https://api.zoom.us' }),
        expiresIn: 3599,
      },
    },
  },
  webex: {
    vars: {},
    grants: {
      authorization_code: {
        url: webexToken,
        grantType: 'authorization_code',
        auth: 'body',
        encoding: 'form',
        response: webexAnswer,
        expiresIn: 43199,
        refreshExpiresIn: 7775999,
      },
      refresh_token: {
        url: webexToken,
        grantType: 'refresh_token',
        auth: 'body',
        encoding: 'form',
        response: webexAnswer,
        expiresIn: 43199,
        refreshExpiresIn: 7775999,
      },
    },
  },
  dialpad: {
    vars: { host: 'sandbox.dialpad.com' },
    grants: {
      authorization_code: {
        url: 'https://sandbox.dialpad.com/oauth2/token',
        grantType: 'authorization_code',
        auth: 'body',
        encoding: 'form',
        response: withRefresh({ id_token: tok('idt') }),
      },
      refresh_token: {
        url: 'https://sandbox.dialpad.com/oauth2/token',
        grantType: 'refresh_token',
        auth: 'body',
        encoding: 'form',
        response: withRefresh({}),
      },
    },
  },
  aircall: {
    vars: {},
    grants: {
      authorization_code: {
        url: 'https://api.aircall.io/v1/oauth/token',
        grantType: 'authorization_code',
        auth: 'body',
        encoding: 'form',
        response: () => ({
          access_token: tok('at'),
          token_type: 'Bearer',
          scope: 'public_api',
          created_at: 1_700_000_000,
        }),
      },
    },
    static: () => {
      const secret = { api_id: tok('api-id'), api_token: tok('api-token') };
      return { secret, username: secret.api_id, password: secret.api_token };
    },
  },
  '8x8': {
    vars: {},
    grants: {
      client_credentials: {
        url: 'https://api.8x8.com/oauth/v2/token',
        grantType: 'client_credentials',
        auth: 'basic',
        encoding: 'form',
        response: () => ({ access_token: tok('at'), token_type: 'BearerToken', expires_in: '1799' }),
        expiresIn: 1799,
      },
    },
  },
  talkdesk: {
    vars: { account: 'acme', region: 'talkdeskid.eu' },
    grants: {
      authorization_code: {
        url: talkdeskToken,
        grantType: 'authorization_code',
        auth: 'basic',
        encoding: 'form',
        response: withRefresh({ expires_in: 600, scope: 'users:read', token_type: 'Bearer' }),
        expiresIn: 600,
      },
      refresh_token: {
        url: talkdeskToken,
        grantType: 'refresh_token',
        auth: 'basic',
        encoding: 'form',
        response: withRefresh({ expires_in: 600, scope: 'users:read', token_type: 'Bearer' }),
        expiresIn: 600,
      },
      client_credentials: {
        url: talkdeskToken,
        grantType: 'client_credentials',
        auth: 'basic',
        encoding: 'form',
        response: bearer({ expires_in: 600, scope: 'data-reports:read', token_type: 'Bearer' }),
        expiresIn: 600,
      },
    },
  },
  zendesk: {
    vars: { subdomain: 'acme' },
    grants: {
      authorization_code: {
        url: zendeskToken,
        grantType: 'authorization_code',
        auth: 'body',
        encoding: 'json',
        params: zendeskLifetimes,
        response: withRefresh({ scope: 'read', expires_in: 1800, refresh_token_expires_in: 2592000 }),
        expiresIn: 1800,
        refreshExpiresIn: 2592000,
      },
      refresh_token: {
        url: zendeskToken,
        grantType: 'refresh_token',
        auth: 'body',
        encoding: 'json',
        params: zendeskLifetimes,
        response: withRefresh({ scope: 'read', expires_in: 1800, refresh_token_expires_in: 2592000 }),
        expiresIn: 1800,
        refreshExpiresIn: 2592000,
      },
      client_credentials: {
        url: zendeskToken,
        grantType: 'client_credentials',
        auth: 'body',
        encoding: 'json',
        response: bearer({ scope: 'read', expires_in: 1800 }),
        expiresIn: 1800,
      },
    },
  },
  'nice-cxone': {
    vars: {},
    grants: {
      password: {
        url: cxoneToken,
        grantType: 'password',
        auth: 'basic',
        encoding: 'form',
        response: cxoneAnswer,
        expiresIn: 3600,
      },
      refresh_token: {
        url: cxoneToken,
        grantType: 'refresh_token',
        auth: 'basic',
        encoding: 'form',
        response: cxoneAnswer,
        expiresIn: 3600,
      },
    },
  },
};

/** Every built-in's case: the contact-center templates here, the CRM/helpdesk and workspace ones beside. */
export const cases: Record<string, ProviderCase> = { ...contactCenterCases, ...crmCases, ...workspaceCases };
