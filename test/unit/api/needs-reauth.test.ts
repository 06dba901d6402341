/** Where a user connects again after `needs_reauth`: chosen by the grant that made the connection. */
import { NeedsReauthError } from '../../../functions/core/lifecycle/errors.js';
import { needsReauthAnswer, reconnectRoute } from '../../../functions/handlers/needs-reauth.js';

describe('the reconnect route of a needs_reauth answer', () => {
  it.each([
    ['authorization_code', { method: 'POST', path: '/connect/finesse' }],
    ['user_credentials', { method: 'POST', path: '/connect/finesse/credentials' }],
    ['saml2_bearer', { method: 'GET', path: '/saml/finesse/login' }],
    [undefined, { method: 'POST', path: '/connect/finesse' }],
  ])('a %s connection connects again at %j', (grant, route) => {
    expect(reconnectRoute(grant, 'finesse')).toEqual(route);
  });

  it('answers 409 with reason and route, and rethrows anything else', () => {
    const answer = needsReauthAnswer(
      new NeedsReauthError('finesse', 'rejected', { grant: 'user_credentials' }),
      'finesse',
    );
    expect(answer.statusCode).toBe(409);
    expect(JSON.parse(answer.body ?? '')).toMatchObject({
      error: 'needs_reauth',
      reason: 'rejected',
      connect: { method: 'POST', path: '/connect/finesse/credentials' },
    });
    expect(reconnectRoute('authorization_code', 'a/b').path).toBe('/connect/a%2Fb');
    const other = new Error('x');
    expect(() => needsReauthAnswer(other, 'finesse')).toThrow(other);
  });
});
