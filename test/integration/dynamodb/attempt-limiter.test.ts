/** The fixed-window attempt counter against DynamoDB Local: exact under concurrency, windows lapse and restart. */
import { randomUUID } from 'node:crypto';
import { DynamoAttemptLimiter } from '../../../functions/adapters/dynamodb/index.js';
import { useDynamoTable } from '../../support/dynamodb-local.js';

const table = useDynamoTable();
let nowMs = Date.parse('2026-12-02T10:00:00Z');

const limiter = () =>
  new DynamoAttemptLimiter({ client: table.client, tableName: table.tableName, nowMs: () => nowMs });
const WINDOW = { max: 5, windowSeconds: 900 };

describe('DynamoAttemptLimiter', () => {
  it('lets exactly max of 20 concurrent attempts through, and tells the refused when the window ends', async () => {
    const key = `credentials\nfinesse\nuser:local:${randomUUID()}`;
    const results = await Promise.all(Array.from({ length: 20 }, () => limiter().take(key, WINDOW)));
    expect(results.filter((r) => r.allowed)).toHaveLength(5);
    for (const r of results.filter((r) => !r.allowed))
      expect(r).toEqual({ allowed: false, retryAfterSeconds: 900 });
    nowMs += 600_000;
    expect(await limiter().take(key, WINDOW)).toEqual({ allowed: false, retryAfterSeconds: 300 });
  });

  it('opens a new window once the old one has ended, and counts keys apart', async () => {
    const key = `credentials\nfinesse\nuser:local:${randomUUID()}`;
    const other = `credentials\nfinesse\nuser:local:${randomUUID()}`;
    for (let i = 0; i < 5; i++) expect((await limiter().take(key, WINDOW)).allowed).toBe(true);
    expect((await limiter().take(key, WINDOW)).allowed).toBe(false);
    expect((await limiter().take(other, WINDOW)).allowed).toBe(true);
    nowMs += 900_000;
    expect((await limiter().take(key, WINDOW)).allowed).toBe(true);
    for (let i = 0; i < 4; i++) expect((await limiter().take(key, WINDOW)).allowed).toBe(true);
    expect((await limiter().take(key, WINDOW)).allowed).toBe(false);
  });
});
