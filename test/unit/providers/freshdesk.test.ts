import { TemplateError } from '../../../functions/core/errors.js';
import { authorizationFor, staticTokenSet } from '../../../functions/core/oauth/engine.js';
import { basicOf, builtin, NOW, tok } from './support.js';

describe('freshdesk template', () => {
  it('has no OAuth grant: the API key is the Basic username with the password X', async () => {
    const p = await builtin('freshdesk', { domain: 'acme' });
    expect(Object.keys(p.template.grants)).toEqual(['static']);
    expect(p.endpoints.token).toBeUndefined();
    expect(p.apiBaseUrl).toBe('https://acme.freshdesk.com/api/v2');
    const apiKey = tok('api-key');
    const tokens = staticTokenSet(p, { api_key: apiKey }, NOW);
    expect(tokens.expiresAt).toBeUndefined();
    expect(authorizationFor(p, tokens)).toEqual({ header: 'Authorization', value: basicOf(apiKey, 'X') });
  });

  it('needs the domain, one DNS label', async () => {
    await expect(builtin('freshdesk')).rejects.toThrow(/domain: is required/);
    await expect(builtin('freshdesk', { domain: 'acme.evil.example' })).rejects.toThrow(TemplateError);
  });

  it('fails clearly when the secret has no api_key', async () => {
    const p = await builtin('freshdesk', { domain: 'acme' });
    expect(() => staticTokenSet(p, { api_token: tok('x') }, NOW)).toThrow(/api_key/);
  });
});
