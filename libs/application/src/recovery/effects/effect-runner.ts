/**
 * The effect runner: claims durable requests from `engine.effect_queue` (leased, like the timers),
 * dispatches each as its `@nestjs/cqrs` command on the `CommandBus`, and settles the request from
 * the handler's explicit {@link EffectOutcome}. It knows nothing of what an effect does.
 *
 * Nothing durable rides the in-memory bus: a request stays in the table, claimed with a lease, until
 * its outcome is settled here; a crash anywhere leaves it to be claimed again when the lease ends
 * (the handlers are idempotent, and the send protocol of {@link MessageDelivery} reports a send
 * interrupted mid-call as `unknown`, which is reconciled, never resent blindly — R2).
 */
import { Inject, Injectable } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { parseRecoveryId } from '@reclaim/domain';
import { describeProviderError } from '@reclaim/ports';
import { runRecovery } from '../recovery-stream';
import { effectCommandOf, type EffectOutcome } from './effect-commands';
import { EFFECT_DEFAULTS, EFFECT_DEPS, type EffectRunnerDeps } from './effect-deps';
import { EffectQueue, type EffectRequest } from './effect-queue';
import { EffectRecords } from './effect-records';

export interface RunResult {
  /** Requests settled (sent, skipped, unknown or failed and recorded). */
  readonly processed: number;
  /** Requests put back for later (deferred, or their handler threw). */
  readonly failed: number;
}

@Injectable()
export class EffectRunner {
  private running: Promise<RunResult> | undefined;
  /**
   * Requests put back while the database did not answer (their `retryLater` failed): written at the
   * next drain, before anything is claimed, so they come back at their time instead of waiting for
   * the lease to end (EFFECT_LEASE; a crash still leaves that to the lease).
   */
  private readonly unsettled = new Map<string, Date>();

  constructor(
    @Inject(CommandBus) private readonly bus: CommandBus,
    @Inject(EffectQueue) private readonly queue: EffectQueue,
    @Inject(EffectRecords) private readonly records: EffectRecords,
    @Inject(EFFECT_DEPS) private readonly deps: EffectRunnerDeps,
  ) {}

  /** Drains the ready requests once (coalesced when called while running). Schedule it like the timer tick. */
  runOnce(): Promise<RunResult> {
    if (!this.running) {
      this.running = this.drain().finally(() => {
        this.running = undefined;
      });
    }
    return this.running;
  }

  /**
   * Start-up: effects left `started` by a crashed process (older than `staleStartedAfterMs`) have
   * their requests released at once; processing them reports `unknown` and reconciles (R2).
   */
  async recoverInterrupted(): Promise<number> {
    await this.deps.clock.refresh?.();
    const staleAfter = this.deps.staleStartedAfterMs ?? EFFECT_DEFAULTS.staleStartedAfterMs;
    const requestIds = await this.records.startedBefore(new Date(this.deps.clock.now().getTime() - staleAfter));
    await this.queue.releaseNow(requestIds);
    return requestIds.length;
  }

  private async drain(): Promise<RunResult> {
    let processed = 0;
    let failed = 0;
    await this.deps.clock.refresh?.();
    for (const [requestId, retryAt] of this.unsettled) {
      await this.queue.retryLater(requestId, retryAt);
      this.unsettled.delete(requestId);
    }
    // Dead letters an operator retried (dashboard): claimable again now, with a fresh budget.
    const requeued = await this.queue.requeueRetried(this.deps.clock.now());
    if (requeued.length > 0) this.deps.log?.info?.({ requests: requeued.length }, 'effect dead letters re-queued');
    for (;;) {
      const batch = await this.queue.claim(
        this.deps.clock.now(),
        this.deps.batchSize ?? EFFECT_DEFAULTS.batchSize,
        this.deps.leaseMs ?? EFFECT_DEFAULTS.leaseMs,
      );
      if (batch.length === 0) break;
      const results = await Promise.all(batch.map((r) => this.process(r)));
      processed += results.filter(Boolean).length;
      failed += results.filter((ok) => !ok).length;
      if (results.every((ok) => !ok)) break;
    }
    return { processed, failed };
  }

  /** Dispatches one claimed request and settles it; false when it was put back for later. */
  async process(request: EffectRequest): Promise<boolean> {
    try {
      const outcome: EffectOutcome = await this.bus.execute(effectCommandOf(request));
      if (outcome.kind === 'deferred') return await this.putBack(request, outcome.until, outcome.reason, 'deferred');
      await this.queue.done(request.requestId, this.deps.clock.now());
      return true;
    } catch (err) {
      const backoff = Math.min(EFFECT_DEFAULTS.maxBackoffMs, 1_000 * 2 ** Math.min(request.attempts, 12));
      return this.putBack(
        request,
        new Date(this.deps.clock.now().getTime() + backoff),
        describeProviderError(err),
        'retried',
      );
    }
  }

  /**
   * Claimable again at `retryAt`, or after too many attempts parked as a dead letter (the
   * consumers' registry: dashboard list with a retry action, /metrics, /health degraded) and
   * recorded on its recovery (`recovery.effect-parked`, customer history).
   */
  private async putBack(
    request: EffectRequest,
    retryAt: Date,
    error: string,
    why: 'deferred' | 'retried',
  ): Promise<false> {
    const log = this.deps.log;
    if (request.attempts + 1 >= (this.deps.maxRequestAttempts ?? EFFECT_DEFAULTS.maxRequestAttempts)) {
      this.deps.effectMetrics?.effectRequest(request.kind, 'dropped');
      log?.warn(
        { requestId: request.requestId, kind: request.kind, error },
        'effect request parked as a dead letter after repeated failures',
      );
      try {
        await this.queue.park(request, this.deps.clock.now(), error);
      } catch {
        // The database did not take it: the lease brings the request back, to be parked then.
        return false;
      }
      await this.recordParked(request, error).catch((err: unknown) =>
        log?.warn(
          { requestId: request.requestId, error: err instanceof Error ? err.name : 'Error' },
          'parked effect request not recorded on its recovery (listed as a dead letter all the same)',
        ),
      );
      return false;
    }
    this.deps.effectMetrics?.effectRequest(request.kind, why);
    log?.warn({ requestId: request.requestId, kind: request.kind, error }, 'effect request failed: retried later');
    await this.queue.retryLater(request.requestId, retryAt, { text: error, at: this.deps.clock.now() }).then(
      () => this.unsettled.delete(request.requestId),
      () => this.unsettled.set(request.requestId, retryAt),
    );
    return false;
  }

  /** The parked request on its recovery: `recovery.effect-parked`, once per parking (causation id). */
  private async recordParked(request: EffectRequest, error: string): Promise<void> {
    const ids = parseRecoveryId(request.streamId);
    if (ids === undefined) return;
    const pm = this.deps.deciders ? await this.deps.deciders.forShop(ids.shopId) : this.deps.pm;
    const step = typeof request.payload.step === 'number' ? request.payload.step : undefined;
    await runRecovery(
      this.deps.store,
      pm,
      request.streamId,
      {
        type: 'EffectParked',
        effect: request.kind,
        ...(step !== undefined ? { step } : {}),
        attempts: request.attempts + 1,
        error,
        at: this.deps.clock.now().toISOString(),
      },
      `${request.requestId}:parked:${this.deps.clock.now().getTime()}`,
      ids.shopId,
    );
  }
}
