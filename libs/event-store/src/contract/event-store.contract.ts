import { randomUUID } from 'node:crypto';
import {
  comparePositions,
  EventStore,
  GlobalPosition,
  NewEvent,
  readStreams,
  RecordedEvent,
  START,
  WrongExpectedRevisionError,
} from '../event-store.port';

export interface EventStoreUnderTest {
  readonly store: EventStore;
  teardown(): Promise<void>;
}

/** Per-run unique names, so a shared server (EventStoreDB) never mixes runs. */
function uniq(prefix: string): string {
  return `${prefix}${randomUUID().replace(/-/g, '').slice(0, 12)}`;
}

function ev(type: string, data: unknown = {}, metadata?: NewEvent['metadata']): NewEvent {
  return { id: randomUUID(), type, schemaVersion: 1, data, metadata };
}

async function collect(
  store: EventStore,
  after: GlobalPosition,
  until: (seen: RecordedEvent[]) => boolean,
  options: { filter?: { typePrefixes?: string[]; streamPrefixes?: string[] }; batchSize?: number } = {},
): Promise<RecordedEvent[]> {
  const controller = new AbortController();
  const seen: RecordedEvent[] = [];
  const guard = setTimeout(() => controller.abort(), 20_000);
  try {
    for await (const batch of store.subscribeToAll({ after, signal: controller.signal, ...options })) {
      seen.push(...batch);
      if (until(seen)) break;
    }
  } finally {
    clearTimeout(guard);
    controller.abort();
  }
  return seen;
}

/**
 * The one contract both adapters pass. `factory` gives a store on an isolated database (Postgres)
 * or a shared server (EventStoreDB): tests therefore only look at streams and types they created.
 */
export function eventStoreContract(name: string, factory: () => Promise<EventStoreUnderTest>): void {
  describe(`EventStore contract: ${name}`, () => {
    let sut: EventStoreUnderTest;
    let store: EventStore;
    beforeAll(async () => {
      sut = await factory();
      store = sut.store;
    });
    afterAll(async () => {
      await sut?.teardown();
    });

    describe('append and readStream', () => {
      it('reads several streams at once (readStreams), each in revision order, [] for a missing one', async () => {
        const a = uniq('multi-a-');
        const b = uniq('multi-b-');
        const missing = uniq('multi-none-');
        await store.append(a, [ev('A1'), ev('A2')], 'no_stream');
        await store.append(b, [ev('B1')], 'no_stream');
        await store.append(a, [ev('A3')], 1n);
        const got = await readStreams(store, [a, b, missing, a]);
        expect([...got.keys()].sort()).toEqual([a, b, missing].sort());
        expect(got.get(a)!.map((e) => [e.type, e.revision])).toEqual([
          ['A1', 0n],
          ['A2', 1n],
          ['A3', 2n],
        ]);
        expect(got.get(b)!.map((e) => e.type)).toEqual(['B1']);
        expect(got.get(missing)).toEqual([]);
      });

      it('round-trips type, schemaVersion, data and metadata exactly', async () => {
        const s = uniq("cart-o'brien\\$$-");
        const big = 'x'.repeat(200_000);
        const data = {
          text: 'Grüße 👋🏽 مرحبا ‏‎ zero​width 中文',
          emoji: '🛒💳✅👨‍👩‍👧',
          big,
          amount: '12.50',
          sql: "it's a \\ back'slash'; DROP TABLE events; -- $$ \\' \\\\",
          id: '12345678901234567890',
          nested: { list: [1, 'two', null, true], empty: {} },
        };
        const first = ev('CartCreated', data, { correlationId: 'c-1', shopId: 'shop-1', extra: { n: 1 } });
        const second: NewEvent = { ...ev("Cart'Updated\\", { n: 2 }), schemaVersion: 3 };
        const r = await store.append(s, [first, second], 'no_stream');
        expect(r.nextExpectedRevision).toBe(1n);
        const read = await store.readStream(s);
        expect(read.map((e) => e.id)).toEqual([first.id, second.id]);
        expect(read.map((e) => e.revision)).toEqual([0n, 1n]);
        expect(read[0]).toMatchObject({ streamId: s, type: 'CartCreated', schemaVersion: 1, data });
        expect((read[0].data as { big: string }).big).toHaveLength(200_000);
        expect(read[0].metadata).toMatchObject({ correlationId: 'c-1', shopId: 'shop-1', extra: { n: 1 } });
        expect(read[1]).toMatchObject({ type: "Cart'Updated\\", schemaVersion: 3, data: { n: 2 } });
        expect(read[1].position).toEqual(r.position);
        expect(comparePositions(read[0].position, read[1].position)).toBeLessThan(0);
        expect(read[0].recordedAt).toBeInstanceOf(Date);
      });

      it('returns [] for a stream that does not exist', async () => {
        expect(await store.readStream(uniq('missing-'))).toEqual([]);
      });

      it('reads from a revision with a max count', async () => {
        const s = uniq('cart-range-');
        await store.append(s, [ev('A'), ev('B'), ev('C'), ev('D')], 'no_stream');
        const part = await store.readStream(s, { fromRevision: 1n, maxCount: 2 });
        expect(part.map((e) => [e.type, e.revision])).toEqual([
          ['B', 1n],
          ['C', 2n],
        ]);
      });
    });

    describe('expected revision', () => {
      it('no_stream succeeds once, then conflicts', async () => {
        const s = uniq('er-ns-');
        await store.append(s, [ev('A')], 'no_stream');
        await expect(store.append(s, [ev('B')], 'no_stream')).rejects.toBeInstanceOf(WrongExpectedRevisionError);
      });

      it('stream_exists conflicts on a new stream and succeeds on an existing one', async () => {
        const s = uniq('er-se-');
        const err = await store.append(s, [ev('A')], 'stream_exists').catch((e: unknown) => e);
        expect(err).toBeInstanceOf(WrongExpectedRevisionError);
        expect((err as WrongExpectedRevisionError).actual).toBe('no_stream');
        await store.append(s, [ev('A')], 'any');
        const r = await store.append(s, [ev('B')], 'stream_exists');
        expect(r.nextExpectedRevision).toBe(1n);
      });

      it('any always appends', async () => {
        const s = uniq('er-any-');
        expect((await store.append(s, [ev('A')], 'any')).nextExpectedRevision).toBe(0n);
        expect((await store.append(s, [ev('B'), ev('C')], 'any')).nextExpectedRevision).toBe(2n);
      });

      it('an exact revision must match the last event, and the error reports the actual one', async () => {
        const s = uniq('er-rev-');
        await store.append(s, [ev('A'), ev('B')], 'no_stream');
        const err = await store.append(s, [ev('C')], 0n).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(WrongExpectedRevisionError);
        expect((err as WrongExpectedRevisionError).actual).toBe(1n);
        expect((err as WrongExpectedRevisionError).streamId).toBe(s);
        await expect(store.append(s, [ev('C')], 5n)).rejects.toBeInstanceOf(WrongExpectedRevisionError);
        expect((await store.append(s, [ev('C')], 1n)).nextExpectedRevision).toBe(2n);
        expect((await store.readStream(s)).map((e) => e.type)).toEqual(['A', 'B', 'C']);
      });

      it('an exact revision on a missing stream conflicts', async () => {
        await expect(store.append(uniq('er-miss-'), [ev('A')], 0n)).rejects.toBeInstanceOf(WrongExpectedRevisionError);
      });

      it('a rejected append writes nothing', async () => {
        const s = uniq('er-none-');
        await store.append(s, [ev('A')], 'no_stream');
        await store.append(s, [ev('X'), ev('Y')], 7n).catch(() => undefined);
        expect((await store.readStream(s)).map((e) => e.type)).toEqual(['A']);
      });
    });

    describe('idempotent re-append', () => {
      it('same ids at the same exact revision return the original result and add nothing', async () => {
        const s = uniq('idem-rev-');
        await store.append(s, [ev('A')], 'no_stream');
        const batch = [ev('B'), ev('C')];
        const first = await store.append(s, batch, 0n);
        const again = await store.append(s, batch, 0n);
        expect(again.nextExpectedRevision).toBe(first.nextExpectedRevision);
        expect(again.position).toEqual(first.position);
        expect(await store.readStream(s)).toHaveLength(3);
      });

      it('same ids with no_stream are idempotent', async () => {
        const s = uniq('idem-ns-');
        const batch = [ev('A')];
        const first = await store.append(s, batch, 'no_stream');
        expect(await store.append(s, batch, 'no_stream')).toEqual(first);
        expect(await store.readStream(s)).toHaveLength(1);
      });

      it('same ids with a different, non-matching revision conflict', async () => {
        const s = uniq('idem-wrong-');
        await store.append(s, [ev('A')], 'no_stream');
        const batch = [ev('B')];
        await store.append(s, batch, 0n);
        await store.append(s, [ev('C')], 1n);
        await expect(store.append(s, batch, 1n)).rejects.toBeInstanceOf(WrongExpectedRevisionError);
        expect(await store.readStream(s)).toHaveLength(3);
      });

      it('a partial overlap with stored ids is refused', async () => {
        const s = uniq('idem-part-');
        const a = ev('A');
        await store.append(s, [a, ev('C')], 'no_stream');
        await expect(store.append(s, [a, ev('B')], 'no_stream')).rejects.toThrow();
        expect((await store.readStream(s)).map((e) => e.type)).toEqual(['A', 'C']);
      });
    });

    describe('readAll', () => {
      it('returns events in strictly increasing global order, after is exclusive', async () => {
        const tag = uniq('RA');
        const s1 = uniq('ra-a-');
        const s2 = uniq('ra-b-');
        const start = await store.append(s1, [ev(`${tag}.One`)], 'no_stream');
        await store.append(s2, [ev(`${tag}.Two`), ev(`${tag}.Three`)], 'no_stream');
        await store.append(s1, [ev(`${tag}.Four`)], 0n);
        const all = await store.readAll({ filter: { typePrefixes: [tag] } });
        expect(all.map((e) => e.type)).toEqual([`${tag}.One`, `${tag}.Two`, `${tag}.Three`, `${tag}.Four`]);
        for (let i = 1; i < all.length; i++)
          expect(comparePositions(all[i - 1].position, all[i].position)).toBeLessThan(0);
        const after = await store.readAll({ after: start.position, filter: { typePrefixes: [tag] } });
        expect(after.map((e) => e.type)).toEqual([`${tag}.Two`, `${tag}.Three`, `${tag}.Four`]);
        const two = await store.readAll({ after: start.position, maxCount: 2, filter: { typePrefixes: [tag] } });
        expect(two.map((e) => e.type)).toEqual([`${tag}.Two`, `${tag}.Three`]);
      });

      it('filters by type prefix and by stream prefix', async () => {
        const tag = uniq('FT');
        const p = uniq('flt-');
        await store.append(`${p}-cart-1`, [ev(`${tag}Cart.Created`), ev(`${tag}Order.Placed`)], 'no_stream');
        await store.append(`${p}-customer-1`, [ev(`${tag}Customer.Seen`)], 'no_stream');
        await store.append(`${p}-cart-2`, [ev(`${tag}Cart.Created`)], 'no_stream');
        const carts = await store.readAll({ filter: { streamPrefixes: [`${p}-cart-`] } });
        expect(carts.map((e) => e.streamId)).toEqual([`${p}-cart-1`, `${p}-cart-1`, `${p}-cart-2`]);
        const types = await store.readAll({ filter: { typePrefixes: [`${tag}Cart.`, `${tag}Customer.`] } });
        expect(types.map((e) => e.type)).toEqual([`${tag}Cart.Created`, `${tag}Customer.Seen`, `${tag}Cart.Created`]);
      });

      it('treats LIKE wildcards in prefixes literally', async () => {
        const tag = uniq('WC');
        await store.append(uniq('wc-'), [ev(`${tag}_x%`), ev(`${tag}ab`)], 'no_stream');
        const got = await store.readAll({ filter: { typePrefixes: [`${tag}_`] } });
        expect(got.map((e) => e.type)).toEqual([`${tag}_x%`]);
      });
    });

    describe('subscribeToAll', () => {
      it('catches up from history, then delivers live events, in order', async () => {
        const tag = uniq('SUB');
        const s = uniq('sub-');
        await store.append(s, [ev(`${tag}.H1`), ev(`${tag}.H2`)], 'no_stream');
        const collecting = collect(store, START, (seen) => seen.length >= 5, {
          filter: { typePrefixes: [tag] },
          batchSize: 2,
        });
        await new Promise((r) => setTimeout(r, 50));
        await store.append(s, [ev(`${tag}.L1`)], 1n);
        await store.append(uniq('sub-other-'), [ev(`${tag}.L2`), ev(`${tag}.L3`)], 'no_stream');
        const seen = await collecting;
        expect(seen.map((e) => e.type)).toEqual([`${tag}.H1`, `${tag}.H2`, `${tag}.L1`, `${tag}.L2`, `${tag}.L3`]);
        for (let i = 1; i < seen.length; i++)
          expect(comparePositions(seen[i - 1].position, seen[i].position)).toBeLessThan(0);
      });

      it('resumes from a stored position without gaps or duplicates', async () => {
        const tag = uniq('RES');
        const s = uniq('res-');
        const events = Array.from({ length: 6 }, (_, i) => ev(`${tag}.E${i}`));
        await store.append(s, events.slice(0, 3), 'no_stream');
        const firstRun = await collect(store, START, (seen) => seen.length >= 2, {
          filter: { typePrefixes: [tag] },
          batchSize: 1,
        });
        expect(firstRun).toHaveLength(2);
        const checkpoint = firstRun[1].position;
        await store.append(s, events.slice(3), 2n);
        const resumed = await collect(store, checkpoint, (seen) => seen.length >= 4, {
          filter: { typePrefixes: [tag] },
        });
        expect(resumed.map((e) => e.id)).toEqual(events.slice(2).map((e) => e.id));
      });

      it('ends when the signal aborts', async () => {
        const controller = new AbortController();
        const iterating = (async () => {
          let batches = 0;
          for await (const _ of store.subscribeToAll({
            signal: controller.signal,
            filter: { typePrefixes: [uniq('NONE')] },
          })) {
            batches++;
          }
          return batches;
        })();
        setTimeout(() => controller.abort(), 100);
        await expect(iterating).resolves.toBe(0);
      });
    });

    describe('concurrency', () => {
      it('concurrent appends at one revision: exactly one wins per revision', async () => {
        const s = uniq('race-');
        await store.append(s, [ev('Start')], 'no_stream');
        for (let round = 0; round < 5; round++) {
          const expected = BigInt(round);
          const results = await Promise.allSettled(
            Array.from({ length: 8 }, (_, i) => store.append(s, [ev(`R${round}.${i}`)], expected)),
          );
          const won = results.filter((r) => r.status === 'fulfilled');
          expect(won).toHaveLength(1);
          for (const r of results) {
            if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(WrongExpectedRevisionError);
          }
        }
        const read = await store.readStream(s);
        expect(read.map((e) => e.revision)).toEqual([0n, 1n, 2n, 3n, 4n, 5n]);
      });
    });
  });
}
