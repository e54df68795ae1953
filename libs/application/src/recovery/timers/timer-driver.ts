import type { Pool } from 'pg';
import { v5 as uuidv5 } from 'uuid';
import {
  evolveRecovery,
  initialRecoveryState,
  upcastEvent,
  type RecoveryDecider,
  type RecoveryInput,
  type RecoveryState,
  type StartContext,
  type StoredRecoveryEvent,
} from '@reclaim/domain';
import {
  readStreams,
  WrongExpectedRevisionError,
  type EventStore,
  type NewEvent,
  type RecordedEvent,
} from '@reclaim/event-store';
import { RECLAIM_ID_NAMESPACE } from '../../ingestion/ids';
import type { Clock } from '../clock';
import { storeProductIds } from '../categories';
import { buildStartContext, buildStartContexts, type StartContextDeps } from '../facts';
import type { ScoringSource } from '../../learning/live-models';
import type { EngineLog, ShopLookup } from '../ports';
import { loadRecovery, runRecovery } from '../recovery-stream';
import type { SequenceRepository } from '../sequences/sequence-repository';
import type { ShopDeciders } from '../settings/shop-settings';
import type { ClaimedTimer, TimerStore } from './timer-store';

/** The timer driver's defaults, in one place. */
export const TIMER_DEFAULTS = {
  batchSize: 200,
  maxBatchesPerTick: 50,
  leaseMs: 60_000,
  concurrency: 8,
  pipelineDepth: 3,
  retryDelayMs: 5_000,
} as const;

export interface TimerDriverDeps {
  readonly store: EventStore;
  readonly pool: Pool;
  readonly timers: TimerStore;
  readonly pm: RecoveryDecider;
  /** Per-shop process managers (shop settings); `pm` for every shop when absent. */
  readonly deciders?: ShopDeciders;
  readonly shops: ShopLookup;
  readonly sequences: SequenceRepository;
  /** Normally a `DatabaseClock` (R8); a manual or accelerated clock in tests and the demo. */
  readonly clock: Clock;
  /** Holdout / rollout draw; default crypto. */
  readonly random?: () => number;
  /** The shops' live recovery-score models: each start records its score. */
  readonly scoring?: ScoringSource;
  /** The shops' experiments of step variants (RFC 0016): each start draws its variants from them. */
  readonly experiments?: StartContextDeps['experiments'];
  readonly log?: EngineLog;
  /** Timers claimed per round trip. Default: {@link TIMER_DEFAULTS}, as for the others. */
  readonly batchSize?: number;
  /** Rounds per tick at most (a backlog drains over several ticks). */
  readonly maxBatchesPerTick?: number;
  /** Lease of a claim: a crashed worker's timers are claimable again after this. */
  readonly leaseMs?: number;
  /** Batches in flight at once (each claimed, fired and committed in its own transaction). */
  readonly pipelineDepth?: number;
  /** Timers of one batch fired in parallel. */
  readonly concurrency?: number;
  /** After a failure the timer is tried again this much later. */
  readonly retryDelayMs?: number;
}

export interface TickResult {
  readonly claimed: number;
  readonly fired: number;
  readonly failed: number;
}

/**
 * Fires due timers: claim (lease) → `TimerFired` into the recovery stream → mark fired. The
 * decider ignores a timer that is not the current one, so a timer fired twice (a crash between the
 * append and `markFired`, a lease that ran out) still acts once. Schedule `tick()` with
 * @nestjs/schedule (e.g. every second); overlapping ticks of one driver are coalesced.
 */
export class TimerDriver {
  private running: Promise<TickResult> | undefined;

  constructor(private readonly deps: TimerDriverDeps) {}

  tick(): Promise<TickResult> {
    if (!this.running) {
      this.running = this.drain().finally(() => {
        this.running = undefined;
      });
    }
    return this.running;
  }

  /** When the next timer becomes claimable (for a next-due wake-up); undefined when none is pending. */
  nextDueAt(): Promise<Date | undefined> {
    return this.deps.timers.nextDueAt();
  }

  /**
   * Each batch is claimed, fired and marked in one transaction (its row locks are the claim; one
   * UPDATE and one commit per batch), and batches are pipelined: `pipelineDepth` batches are in
   * flight, so a claim runs while other batches fire and commit. A crash before the commit leaves the batch claimable again; the
   * deterministic event ids and the decider's current-timer check make a second firing a no-op.
   */
  private async drain(): Promise<TickResult> {
    const batchSize = this.deps.batchSize ?? TIMER_DEFAULTS.batchSize;
    const leaseMs = this.deps.leaseMs ?? TIMER_DEFAULTS.leaseMs;
    const retryDelayMs = this.deps.retryDelayMs ?? TIMER_DEFAULTS.retryDelayMs;
    const total = { claimed: 0, fired: 0, failed: 0 };
    await this.deps.clock.refresh?.();
    let budget = this.deps.maxBatchesPerTick ?? TIMER_DEFAULTS.maxBatchesPerTick;
    let drained = false;
    const pipeline = async () => {
      while (!drained && budget > 0) {
        budget--;
        const batch = await this.deps.timers.claimBatch(this.deps.clock.now(), batchSize, leaseMs);
        if (batch.timers.length < batchSize) drained = true;
        if (batch.timers.length === 0) return;
        try {
          total.claimed += batch.timers.length;
          const fired = await this.fireMany(batch.timers);
          const failed = batch.timers.filter((t) => !fired.has(t.timerId)).map((t) => t.timerId);
          const now = this.deps.clock.now();
          await batch.settle([...fired], now, failed, new Date(now.getTime() + retryDelayMs));
          total.fired += fired.size;
          total.failed += failed.length;
        } catch (err) {
          drained = true;
          await batch.abandon();
          throw err;
        }
      }
    };
    const depth = Math.max(1, this.deps.pipelineDepth ?? TIMER_DEFAULTS.pipelineDepth);
    const results = await Promise.allSettled(Array.from({ length: depth }, pipeline));
    const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure) throw failure.reason;
    return total;
  }

  /**
   * Fires a claimed batch; the ids of the timers that fired (the others are retried after
   * `retryDelayMs`). Protected: benches swap it. Streams with one timer in the batch (the usual
   * case: a stream's later timer supersedes its earlier ones) go through {@link fireBatch}, a
   * constant number of round trips for the whole batch; a stream with several timers fires them one
   * by one in due order.
   */
  protected async fireMany(timers: readonly ClaimedTimer[]): Promise<Set<string>> {
    const byStream = new Map<string, ClaimedTimer[]>();
    for (const t of timers) {
      const lane = byStream.get(t.streamId);
      if (lane) lane.push(t);
      else byStream.set(t.streamId, [t]);
    }
    const lanes = [...byStream.values()];
    const singles = lanes.filter((l) => l.length === 1).map((l) => l[0]);
    const several = lanes.filter((l) => l.length > 1);
    const [fired, firedOneByOne] = await Promise.all([this.fireBatch(singles), this.fireLanes(several)]);
    for (const id of firedOneByOne) fired.add(id);
    return fired;
  }

  /**
   * Timers of distinct streams: their recovery streams in one read, the start contexts of the
   * abandonment timers that are current in one go ({@link buildStartContexts}), the shops' deciders
   * from the settings cache, every decision in memory, and the new events of all streams appended
   * at once at the revision each was read at (the store's group commit writes them together). The
   * event ids are those of the one-by-one path (derived from `timer:<id>`), so a retry or a second
   * firing appends nothing twice; a stream another writer moved meanwhile is redone one by one on
   * its fresh state.
   */
  private async fireBatch(timers: readonly ClaimedTimer[]): Promise<Set<string>> {
    const fired = new Set<string>();
    if (timers.length === 0) return fired;
    let streams: Map<string, RecordedEvent[]>;
    let pms: Map<string, RecoveryDecider>;
    let starts: Map<string, StartContext>;
    const now = this.deps.clock.now();
    const states = new Map<string, { state: RecoveryState; recorded: readonly RecordedEvent[] }>();
    try {
      [streams, pms] = await Promise.all([
        readStreams(
          this.deps.store,
          timers.map((t) => t.streamId),
        ),
        this.decidersFor(timers.map((t) => t.shopId)),
      ]);
      const starting: ClaimedTimer[] = [];
      for (const t of timers) {
        const recorded = streams.get(t.streamId) ?? [];
        const state = recorded
          .map((r) => upcastEvent<StoredRecoveryEvent>({ type: r.type, schemaVersion: r.schemaVersion, data: r.data }))
          .reduce(evolveRecovery, initialRecoveryState());
        states.set(t.streamId, { state, recorded });
        if (t.purpose === 'abandonment' && now.getTime() >= t.dueAt.getTime() && state.timer?.timerId === t.timerId) {
          starting.push(t);
        }
      }
      const contexts = await buildStartContexts(
        this.deps,
        this.deps.pool,
        starting.map((t) => {
          const cart = states.get(t.streamId)!.state.cart;
          return {
            shopId: t.shopId,
            recoveryId: t.streamId,
            customerKey: cart?.customerKey,
            productIds: storeProductIds(cart?.items ?? []),
          };
        }),
      );
      starts = new Map(starting.map((t, i) => [t.timerId, contexts[i]]));
    } catch (err) {
      this.deps.log?.warn(
        { timers: timers.length, error: err instanceof Error ? err.name : 'unknown' },
        'timer batch could not be read: retried later',
      );
      return fired;
    }
    const writes: { timer: ClaimedTimer; events: NewEvent[]; expected: bigint | 'no_stream' }[] = [];
    for (const t of timers) {
      try {
        const { state, recorded } = states.get(t.streamId)!;
        const start = starts.get(t.timerId);
        const input: RecoveryInput = {
          type: 'TimerFired',
          timerId: t.timerId,
          dueAt: t.dueAt.toISOString(),
          now: now.toISOString(),
          ...(start !== undefined ? { start } : {}),
        };
        const pm = pms.get(t.shopId) ?? this.deps.pm;
        const decided = pm.decide(input, state);
        if (decided.length === 0) {
          fired.add(t.timerId);
          continue;
        }
        const last = recorded.length > 0 ? recorded[recorded.length - 1].revision : undefined;
        const first = last === undefined ? 0n : last + 1n;
        const causationId = `timer:${t.timerId}`;
        writes.push({
          timer: t,
          expected: last ?? 'no_stream',
          events: decided.map((e, i) => ({
            id: uuidv5(`${causationId}|${t.streamId}|${first + BigInt(i)}`, RECLAIM_ID_NAMESPACE),
            type: e.type,
            schemaVersion: e.schemaVersion,
            data: e.data,
            metadata: { shopId: t.shopId, causationId },
          })),
        });
      } catch (err) {
        this.warnNotFired(t, err);
      }
    }
    const results = await Promise.allSettled(
      writes.map((w) => this.deps.store.append(w.timer.streamId, w.events, w.expected)),
    );
    const redo: ClaimedTimer[] = [];
    for (const [i, result] of results.entries()) {
      const { timer } = writes[i];
      if (result.status === 'fulfilled') fired.add(timer.timerId);
      else if (result.reason instanceof WrongExpectedRevisionError) redo.push(timer);
      else this.warnNotFired(timer, result.reason);
    }
    for (const id of await this.fireLanes(redo.map((t) => [t]))) fired.add(id);
    return fired;
  }

  /** Lanes of timers, each lane's in order through the one-by-one {@link fire}, lanes in parallel (bounded). */
  private async fireLanes(lanes: readonly (readonly ClaimedTimer[])[]): Promise<Set<string>> {
    const fired = new Set<string>();
    let next = 0;
    const worker = async () => {
      while (next < lanes.length) {
        const lane = lanes[next++];
        for (const t of lane) if (await this.fire(t)) fired.add(t.timerId);
      }
    };
    await Promise.all(
      Array.from({ length: Math.min(this.deps.concurrency ?? TIMER_DEFAULTS.concurrency, lanes.length) }, worker),
    );
    return fired;
  }

  private async decidersFor(shopIds: readonly string[]): Promise<Map<string, RecoveryDecider>> {
    const { deciders } = this.deps;
    if (deciders === undefined) return new Map();
    if (deciders.forShops) return deciders.forShops(shopIds);
    const ids = [...new Set(shopIds)];
    return new Map(await Promise.all(ids.map(async (id) => [id, await deciders.forShop(id)] as const)));
  }

  private warnNotFired(timer: ClaimedTimer, err: unknown): void {
    this.deps.log?.warn(
      { timerId: timer.timerId, purpose: timer.purpose, error: err instanceof Error ? err.name : 'unknown' },
      'timer could not be fired: retried later',
    );
  }

  /** Fires one claimed timer and marks it; false when it failed (it is retried after `retryDelayMs`). */
  async fireOne(timer: ClaimedTimer): Promise<boolean> {
    if (await this.fire(timer)) {
      await this.deps.timers.markFired(timer.timerId, this.deps.clock.now());
      return true;
    }
    await this.deps.timers
      .release(
        timer.timerId,
        new Date(this.deps.clock.now().getTime() + (this.deps.retryDelayMs ?? TIMER_DEFAULTS.retryDelayMs)),
      )
      .catch(() => undefined);
    return false;
  }

  /** `TimerFired` into the recovery stream (not marked), one by one; false when it failed. */
  protected async fire(timer: ClaimedTimer): Promise<boolean> {
    try {
      const now = this.deps.clock.now();
      let input: RecoveryInput = {
        type: 'TimerFired',
        timerId: timer.timerId,
        dueAt: timer.dueAt.toISOString(),
        now: now.toISOString(),
      };
      if (timer.purpose === 'abandonment' && now.getTime() >= timer.dueAt.getTime()) {
        const { state } = await loadRecovery(this.deps.store, timer.streamId);
        if (state.timer?.timerId === timer.timerId) {
          const start = await buildStartContext(
            this.deps,
            this.deps.pool,
            timer.shopId,
            timer.streamId,
            state.cart?.customerKey,
            storeProductIds(state.cart?.items ?? []),
          );
          input = { ...input, start };
        }
      }
      const pm = this.deps.deciders ? await this.deps.deciders.forShop(timer.shopId) : this.deps.pm;
      await runRecovery(this.deps.store, pm, timer.streamId, input, `timer:${timer.timerId}`, timer.shopId);
      return true;
    } catch (err) {
      this.warnNotFired(timer, err);
      return false;
    }
  }
}
