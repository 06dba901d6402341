/**
 * End-to-end cases (see cases.ts) of the CRM and helpdesk templates (Salesforce, HubSpot, ServiceNow, Freshdesk,
 * Intercom, Front, Gorgias, Help Scout; Zoho Desk and Gong are in cases-workspace.ts). Answers follow the vendors' documented token responses
 * (sources in each docs/providers/<id>.md); tokens are generated per call.
 */
import type { ProviderCase } from './cases.js';
import { tok } from './support.js';

const sfToken = 'https://acme.my.salesforce.com/services/oauth2/token';
/** Salesforce answers without `expires_in`: the session timeout governs the token (template default 900 s). */
const sfAnswer = (refresh: boolean) => () => ({
  access_token: `00D5g000004${tok('at')}`,
  ...(refresh ? { refresh_token: tok('rt') } : {}),
  signature: tok('sig'),
  scope: 'api refresh_token',
  instance_url: 'https://acme.my.salesforce.com',
  id: 'https://login.salesforce.com/id/00D5g000004ABCD/0055g000003EFGH',
  token_type: 'Bearer',
  issued_at: '1900000000000',
});
const snowToken = 'https://acme.service-now.com/oauth_token.do';
const snowAnswer = () => ({
  access_token: tok('at'),
  refresh_token: tok('rt'),
  scope: 'useraccount',
  token_type: 'Bearer',
  expires_in: 1799,
});
const hubspotToken = 'https://api.hubapi.com/oauth/v3/token';
const hubspotAnswer = () => ({
  token_use: 'access_token',
  token_type: 'bearer',
  access_token: tok('at'),
  refresh_token: tok('rt'),
  expires_in: 1800,
  hub_id: 62515,
  user_id: 123456,
  scopes: ['oauth', 'crm.objects.contacts.read'],
});
const frontToken = 'https://app.frontapp.com/oauth/token';
/** Front sends `expires_at`, not `expires_in`; the template takes the documented hour instead (see front.md). */
const frontAnswer = () => ({
  access_token: tok('at'),
  refresh_token: tok('rt'),
  expires_at: 1_900_003_600,
  token_type: 'Bearer',
});
const gorgiasToken = 'https://acme.gorgias.com/oauth/token';
const gorgiasAnswer = () => ({
  access_token: tok('at'),
  refresh_token: tok('rt'),
  id_token: tok('idt'),
  token_type: 'Bearer',
  expires_in: 86400,
  scope: 'openid email profile offline',
});
const helpScoutToken = 'https://api.helpscout.net/v2/oauth2/token';

export const crmCases: Record<string, ProviderCase> = {
  salesforce: {
    vars: { loginHost: 'acme.my.salesforce.com' },
    grants: {
      authorization_code: {
        url: sfToken,
        grantType: 'authorization_code',
        auth: 'body',
        encoding: 'form',
        response: sfAnswer(true),
        expiresIn: 900,
      },
      refresh_token: {
        url: sfToken,
        grantType: 'refresh_token',
        auth: 'body',
        encoding: 'form',
        response: sfAnswer(false),
        expiresIn: 900,
      },
      client_credentials: {
        url: sfToken,
        grantType: 'client_credentials',
        auth: 'body',
        encoding: 'form',
        response: sfAnswer(false),
        expiresIn: 900,
      },
    },
  },
  servicenow: {
    vars: { instance: 'acme' },
    grants: {
      authorization_code: {
        url: snowToken,
        grantType: 'authorization_code',
        auth: 'body',
        encoding: 'form',
        response: snowAnswer,
        expiresIn: 1799,
      },
      refresh_token: {
        url: snowToken,
        grantType: 'refresh_token',
        auth: 'body',
        encoding: 'form',
        response: snowAnswer,
        expiresIn: 1799,
      },
    },
  },
  hubspot: {
    vars: {},
    grants: {
      authorization_code: {
        url: hubspotToken,
        grantType: 'authorization_code',
        auth: 'body',
        encoding: 'form',
        response: hubspotAnswer,
        expiresIn: 1800,
      },
      refresh_token: {
        url: hubspotToken,
        grantType: 'refresh_token',
        auth: 'body',
        encoding: 'form',
        response: hubspotAnswer,
        expiresIn: 1800,
      },
    },
  },
  intercom: {
    vars: { region: 'eu.intercom' },
    grants: {
      authorization_code: {
        url: 'https://api.eu.intercom.io/auth/eagle/token',
        grantType: 'authorization_code',
        auth: 'body',
        encoding: 'form',
        response: () => {
          const token = tok('at');
          return { token_type: 'Bearer', token, access_token: token };
        },
      },
    },
  },
  freshdesk: {
    vars: { domain: 'acme' },
    grants: {},
    static: () => {
      const secret = { api_key: tok('api-key') };
      return { secret, username: secret.api_key, password: 'X' };
    },
  },
  front: {
    vars: {},
    grants: {
      authorization_code: {
        url: frontToken,
        grantType: 'authorization_code',
        auth: 'basic',
        encoding: 'form',
        response: frontAnswer,
        expiresIn: 3600,
      },
      refresh_token: {
        url: frontToken,
        grantType: 'refresh_token',
        auth: 'basic',
        encoding: 'form',
        response: frontAnswer,
        expiresIn: 3600,
      },
    },
  },
  gorgias: {
    vars: { account: 'acme' },
    grants: {
      authorization_code: {
        url: gorgiasToken,
        grantType: 'authorization_code',
        auth: 'basic',
        encoding: 'form',
        response: gorgiasAnswer,
        expiresIn: 86400,
      },
      refresh_token: {
        url: gorgiasToken,
        grantType: 'refresh_token',
        auth: 'basic',
        encoding: 'form',
        response: gorgiasAnswer,
        expiresIn: 86400,
      },
    },
    static: () => {
      const secret = { username: 'agent@acme.example', api_key: tok('api-key') };
      return { secret, username: secret.username, password: secret.api_key };
    },
  },
  'help-scout': {
    vars: {},
    grants: {
      authorization_code: {
        url: helpScoutToken,
        grantType: 'authorization_code',
        auth: 'body',
        encoding: 'form',
        response: () => ({
          access_token: tok('at'),
          refresh_token: tok('rt'),
          token_type: 'bearer',
          expires_in: 172800,
        }),
        expiresIn: 172800,
      },
      refresh_token: {
        url: helpScoutToken,
        grantType: 'refresh_token',
        auth: 'body',
        encoding: 'form',
        response: () => ({
          access_token: tok('at'),
          refresh_token: tok('rt'),
          token_type: 'bearer',
          expires_in: 172800,
        }),
        expiresIn: 172800,
      },
      client_credentials: {
        url: helpScoutToken,
        grantType: 'client_credentials',
        auth: 'body',
        encoding: 'form',
        response: () => ({ access_token: tok('at'), token_type: 'bearer', expires_in: 172800 }),
        expiresIn: 172800,
      },
    },
  },
};
