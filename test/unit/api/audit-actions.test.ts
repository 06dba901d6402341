/** Every route either records an audit action or is listed as recording none on purpose (docs/audit.md). */

import { FUNCTIONS } from '../../../functions/handlers/routes.js';
import {
  AUDITED_ROUTES,
  auditActionOf,
  UNAUDITED_ROUTES,
} from '../../../functions/handlers/runtime/audit-actions.js';

const routeKeys = FUNCTIONS.flatMap((f) => f.routes.map((r) => `${r.method} ${r.path}`));

describe('audit actions', () => {
  it.each(routeKeys)('%s is audited, or unaudited on purpose', (key) => {
    expect(Object.hasOwn(AUDITED_ROUTES, key) !== UNAUDITED_ROUTES.has(key)).toBe(true);
  });

  it('names no route that does not exist', () => {
    for (const key of [...Object.keys(AUDITED_ROUTES), ...UNAUDITED_ROUTES]) expect(routeKeys).toContain(key);
  });

  it('maps a route key to its action, and anything else to none', () => {
    expect(auditActionOf('GET /vend/{integration}')).toBe('vend');
    expect(auditActionOf('GET /health')).toBeUndefined();
    expect(auditActionOf('GET /constructor')).toBeUndefined();
    expect(auditActionOf(undefined)).toBeUndefined();
  });
});
