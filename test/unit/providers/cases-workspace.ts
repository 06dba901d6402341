/**
 * End-to-end cases (see cases.ts) of the workspace, telephony and conversation-intelligence templates: Microsoft
 * Entra ID (Graph, Teams), GoTo Connect, 3CX, Wildix, Zoho Desk, Gong and Vonage Business Communications. Answers
 * follow the vendors' documented token responses (sources in each docs/providers/<id>.md); tokens are generated
 * per call.
 */
import type { ProviderCase } from './cases.js';
import { tok } from './support.js';

const entraTenant = '8eaef023-2b34-4da1-9baa-8bc8c9d6a490';
const entraToken = `https://login.microsoftonline.com/${entraTenant}/oauth2/v2.0/token`;
/** Microsoft's sample answer: `expires_in` 3599, a refresh token only with `offline_access`. */
const entraAnswer = () => ({
  token_type: 'Bearer',
  scope: 'https://graph.microsoft.com/User.Read',
  expires_in: 3599,
  ext_expires_in: 3599,
  access_token: tok('at'),
  refresh_token: tok('rt'),
});

const gotoToken = 'https://authentication.logmeininc.com/oauth/token';
/** GoTo's answer; a refresh answer usually repeats no refresh token. */
const gotoAnswer = (refresh: boolean) => () => ({
  access_token: tok('at'),
  token_type: 'Bearer',
  ...(refresh ? { refresh_token: tok('rt') } : {}),
  expires_in: 3600,
  scope: 'users.v1.lines.read calls.v2.initiate',
  principal: 'mahar.singh@company.com',
});
const gongToken = 'https://app.gong.io/oauth2/generate-customer-token';
const gongAnswer = () => ({
  access_token: tok('at'),
  refresh_token: tok('rt'),
  scope: 'api:calls:read:basic api:users:read',
  token_type: 'bearer',
  expires_in: 86400,
  api_base_url_for_customer: 'https://company-17.api.gong.io',
});

const zohoToken = 'https://accounts.zoho.eu/oauth/v2/token';
/** Zoho Accounts' answer; a refresh answer carries no new refresh token. */
const zohoAnswer = (refresh: boolean) => () => ({
  access_token: `1000.${tok('at')}`,
  ...(refresh ? { refresh_token: `1000.${tok('rt')}` } : {}),
  api_domain: 'https://www.zohoapis.eu',
  token_type: 'Bearer',
  expires_in: 3600,
});

const vonageToken = 'https://api.vonage.com/token';
/** Vonage's documented answer: a day-long access token, a 7-day single-use refresh token. */
const vonageAnswer = () => ({
  access_token: tok('at'),
  refresh_token: tok('rt'),
  scope: 'default',
  token_type: 'Bearer',
  expires_in: 86400,
});

const wildixToken = 'https://acme.wildixin.com/authorization/oauth2Token';
/** A standard RFC 6749 answer: Wildix's exact answer fields are unverified (docs/providers/wildix.md). */
const wildixAnswer = () => ({
  access_token: tok('at'),
  token_type: 'Bearer',
  expires_in: 3600,
  refresh_token: tok('rt'),
});

export const workspaceCases: Record<string, ProviderCase> = {
  'microsoft-entra': {
    vars: { tenant: entraTenant },
    grants: {
      authorization_code: {
        url: entraToken,
        grantType: 'authorization_code',
        auth: 'body',
        encoding: 'form',
        response: entraAnswer,
        expiresIn: 3599,
      },
      refresh_token: {
        url: entraToken,
        grantType: 'refresh_token',
        auth: 'body',
        encoding: 'form',
        response: entraAnswer,
        expiresIn: 3599,
      },
      client_credentials: {
        url: entraToken,
        grantType: 'client_credentials',
        auth: 'body',
        encoding: 'form',
        response: () => ({
          token_type: 'Bearer',
          expires_in: 3599,
          ext_expires_in: 3599,
          access_token: tok('at'),
        }),
        expiresIn: 3599,
      },
    },
  },
  gong: {
    vars: {},
    grants: {
      authorization_code: {
        url: gongToken,
        grantType: 'authorization_code',
        auth: 'basic',
        encoding: 'form',
        response: gongAnswer,
        expiresIn: 86400,
      },
      refresh_token: {
        url: gongToken,
        grantType: 'refresh_token',
        auth: 'basic',
        encoding: 'form',
        response: gongAnswer,
        expiresIn: 86400,
      },
    },
  },
  'zoho-desk': {
    vars: { dc: 'zoho.eu' },
    grants: {
      authorization_code: {
        url: zohoToken,
        grantType: 'authorization_code',
        auth: 'body',
        encoding: 'form',
        response: zohoAnswer(true),
        expiresIn: 3600,
      },
      refresh_token: {
        url: zohoToken,
        grantType: 'refresh_token',
        auth: 'body',
        encoding: 'form',
        response: zohoAnswer(false),
        expiresIn: 3600,
      },
    },
  },
  'goto-connect': {
    vars: {},
    grants: {
      authorization_code: {
        url: gotoToken,
        grantType: 'authorization_code',
        auth: 'basic',
        encoding: 'form',
        response: gotoAnswer(true),
        expiresIn: 3600,
      },
      refresh_token: {
        url: gotoToken,
        grantType: 'refresh_token',
        auth: 'basic',
        encoding: 'form',
        response: gotoAnswer(false),
        expiresIn: 3600,
      },
    },
  },
  '3cx': {
    vars: { host: 'acme.3cx.eu' },
    grants: {
      client_credentials: {
        url: 'https://acme.3cx.eu/connect/token',
        grantType: 'client_credentials',
        auth: 'body',
        encoding: 'form',
        response: () => ({ token_type: 'Bearer', expires_in: 3600, access_token: tok('at') }),
        expiresIn: 3600,
      },
    },
  },
  vonage: {
    vars: {},
    grants: {
      authorization_code: {
        url: vonageToken,
        grantType: 'authorization_code',
        auth: 'basic',
        encoding: 'form',
        response: vonageAnswer,
        expiresIn: 86400,
        refreshExpiresIn: 604800,
      },
      refresh_token: {
        url: vonageToken,
        grantType: 'refresh_token',
        auth: 'basic',
        encoding: 'form',
        response: vonageAnswer,
        expiresIn: 86400,
        refreshExpiresIn: 604800,
      },
      password: {
        url: vonageToken,
        grantType: 'password',
        auth: 'body',
        encoding: 'form',
        response: vonageAnswer,
        expiresIn: 86400,
        refreshExpiresIn: 604800,
      },
    },
  },
  wildix: {
    vars: { pbxHost: 'acme.wildixin.com' },
    grants: {
      authorization_code: {
        url: wildixToken,
        grantType: 'authorization_code',
        auth: 'body',
        encoding: 'form',
        response: wildixAnswer,
        expiresIn: 3600,
      },
      refresh_token: {
        url: wildixToken,
        grantType: 'refresh_token',
        auth: 'body',
        encoding: 'form',
        response: wildixAnswer,
        expiresIn: 3600,
      },
    },
  },
};
