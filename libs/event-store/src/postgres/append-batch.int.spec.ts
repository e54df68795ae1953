import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { createTestDatabase } from '@reclaim/database';
import { DuplicateEventIdError } from '../errors';
import { type NewEvent, WrongExpectedRevisionError } from '../event-store.port';
import { PostgresEventStore } from './postgres-event-store';

/**
 * The one-round-trip append (RFC 0020): a batch planned against a state the writer only assumes
 * (its revision cache, the caller's expected revision, no id stored) must end exactly as if it had
 * been planned against the state read under the lock — here two stores on one database, so each
 * one's assumptions go stale behind the other's appends.
 */
describe('PostgresEventStore: batches planned against an assumed state', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let pool: Pool;
  let a: PostgresEventStore;
  let b: PostgresEventStore;
  const ev = (data: unknown = { n: 1 }, id: string = randomUUID()): NewEvent => ({
    id,
    type: 'test.happened',
    schemaVersion: 1,
    data,
    metadata: { by: 'spec' },
  });
  const stream = () => `s-${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    db = await createTestDatabase('reclaim_es_append_batch');
    pool = new Pool({ connectionString: db.url, max: 8 });
    pool.on('error', () => undefined);
    await PostgresEventStore.migrate(pool);
    a = new PostgresEventStore({ pool, notify: false });
    b = new PostgresEventStore({ pool, notify: false });
  });
  afterAll(async () => {
    await a.close();
    await b.close();
    await pool.end();
    await db.drop();
  });

  it('an exact revision behind a stale cache is planned again and lands at the right revision', async () => {
    const s = stream();
    await a.append(s, [ev()], 'no_stream'); // a remembers revision 0
    await b.append(s, [ev(), ev()], 0n); // the stream moves to 2 behind a's back
    const replans = a.stats.replans;
    const r = await a.append(s, [ev()], 2n);
    expect(r.nextExpectedRevision).toBe(3n);
    expect(a.stats.replans).toBe(replans + 1);
    expect((await a.readStream(s)).map((e) => e.revision)).toEqual([0n, 1n, 2n, 3n]);
  });

  it('a conflict is only reported against the actual revision, never a stale one', async () => {
    const s = stream();
    await a.append(s, [ev()], 'no_stream');
    await b.append(s, [ev()], 0n);
    // a's cache says 0: the append at 0 would pass against it, but the stream is at 1.
    await expect(a.append(s, [ev()], 0n)).rejects.toMatchObject({ actual: 1n });
    await expect(a.append(s, [ev()], 0n)).rejects.toBeInstanceOf(WrongExpectedRevisionError);
    // And an append a's stale cache would refuse passes once the actual revision is known.
    await b.append(s, [ev()], 1n);
    await expect(a.append(s, [ev()], 2n)).resolves.toMatchObject({ nextExpectedRevision: 3n });
  });

  it('any and stream_exists on a stream this writer never saw land after its last event', async () => {
    const s = stream();
    await b.append(s, [ev(), ev(), ev()], 'no_stream');
    await expect(a.append(s, [ev()], 'any')).resolves.toMatchObject({ nextExpectedRevision: 3n });
    const other = stream();
    await b.append(other, [ev()], 'no_stream');
    await expect(a.append(other, [ev()], 'stream_exists')).resolves.toMatchObject({ nextExpectedRevision: 1n });
    await expect(a.append(stream(), [ev()], 'stream_exists')).rejects.toBeInstanceOf(WrongExpectedRevisionError);
  });

  it('ids stored by another writer: the re-append returns the original result, a partial one is refused', async () => {
    const s = stream();
    const events = [ev(), ev()];
    const first = await b.append(s, events, 'no_stream');
    await expect(a.append(s, events, 'no_stream')).resolves.toEqual(first);
    await expect(a.append(s, [events[1], ev()], 1n)).rejects.toBeInstanceOf(DuplicateEventIdError);
    expect(await a.readStream(s)).toHaveLength(2);
  });

  it('one batch: the same ids appended twice, positions and revisions in order, payloads exact', async () => {
    const s = stream();
    const events = [ev(null), ev({ q: "it's \\ \"quoted\" ünïcode", n: [1, 2.5] })];
    // Not awaited one by one: both land in one group-commit batch.
    const [first, again, next] = await Promise.all([
      a.append(s, events, 'no_stream'),
      a.append(s, events, 'no_stream'),
      a.append(s, [ev()], 1n),
    ]);
    expect(again).toEqual(first);
    expect(next.nextExpectedRevision).toBe(2n);
    expect(next.position.commit).toBe(first.position.commit + 1n);
    const stored = await a.readStream(s);
    expect(stored.map((e) => e.data)).toEqual([null, { q: "it's \\ \"quoted\" ünïcode", n: [1, 2.5] }, { n: 1 }]);
    expect(stored.map((e) => e.metadata)).toEqual([{ by: 'spec' }, { by: 'spec' }, { by: 'spec' }]);
    expect(stored[1].position.commit).toBe(first.position.commit);
    const head = await a.headPosition();
    expect(head.commit).toBeGreaterThanOrEqual(next.position.commit);
  });

  it('concurrent writers of both stores on shared streams: dense positions, every revision once', async () => {
    const streams = Array.from({ length: 5 }, stream);
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => (i % 2 ? a : b).append(streams[i % 5], [ev({ i })], 'any')),
    );
    const all = await a.readAll({ filter: { streamPrefixes: ['s-'] } });
    const positions = all.map((e) => e.position.commit);
    expect(new Set(positions).size).toBe(positions.length);
    for (const s of streams) {
      const revisions = (await a.readStream(s)).map((e) => Number(e.revision));
      expect(revisions).toEqual(revisions.map((_, i) => i));
      expect(revisions).toHaveLength(40);
    }
    expect(new Set(results.map((r) => r.position.commit)).size).toBe(200);
    const { rows } = await pool.query<{ gaps: string }>(
      `SELECT (MAX(global_position) - MIN(global_position) + 1 - COUNT(*))::text AS gaps FROM event_store.events`,
    );
    expect(rows[0].gaps).toBe('0');
  });
});
