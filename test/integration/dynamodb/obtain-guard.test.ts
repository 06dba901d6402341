/** The obtain guard against DynamoDB Local: one holder at a time, a lapsed lease is taken over, a wait is told. */
import { randomUUID } from 'node:crypto';
import { DynamoObtainGuard } from '../../../functions/adapters/dynamodb/index.js';
import { useDynamoTable } from '../../support/dynamodb-local.js';

const table = useDynamoTable();
let nowMs = Date.parse('2026-12-02T10:00:00Z');

const guard = () =>
  new DynamoObtainGuard({ client: table.client, tableName: table.tableName, nowMs: () => nowMs });
const key = () => `obtain\nsvc\nservice:${randomUUID()}`;

describe('DynamoObtainGuard', () => {
  it('gives the right to exactly one of 20 concurrent callers, and to the next once released', async () => {
    const k = key();
    const owners = Array.from({ length: 20 }, () => randomUUID());
    const results = await Promise.all(owners.map((o) => guard().acquire(k, o, 15_000)));
    expect(results.filter((r) => r.acquired)).toHaveLength(1);
    for (const r of results.filter((r) => !r.acquired))
      expect(r).toEqual({ acquired: false, notBefore: undefined });
    const holder = owners[results.findIndex((r) => r.acquired)] as string;
    // Someone else's release changes nothing.
    await guard().release(k, randomUUID());
    expect((await guard().acquire(k, randomUUID(), 15_000)).acquired).toBe(false);
    await guard().release(k, holder);
    expect((await guard().acquire(k, randomUUID(), 15_000)).acquired).toBe(true);
  });

  it('lets a caller take over a lapsed lease', async () => {
    const k = key();
    expect((await guard().acquire(k, 'dead', 15_000)).acquired).toBe(true);
    nowMs += 15_001;
    expect((await guard().acquire(k, 'alive', 15_000)).acquired).toBe(true);
  });

  it('after a release with notBefore, refuses everyone until then and says until when', async () => {
    const k = key();
    expect((await guard().acquire(k, 'first', 15_000)).acquired).toBe(true);
    const until = Math.floor(nowMs / 1000) + 60;
    await guard().release(k, 'first', until);
    expect(await guard().acquire(k, 'second', 15_000)).toEqual({ acquired: false, notBefore: until });
    nowMs += 60_000;
    expect((await guard().acquire(k, 'second', 15_000)).acquired).toBe(true);
  });
});
