import { Controller, Get, Inject, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ReclaimMetrics } from '@reclaim/read-models';
import { blockedStepsSummary } from '@reclaim/read-models/queries/dashboard';
import { failedModelTrainings } from '@reclaim/read-models/queries/models';
import type { Runtime } from '../runtime/runtime';
import { RUNTIME } from '../runtime/runtime.token';

type Check = { status: 'up' } | { status: 'down'; error: string };

/**
 * Liveness + readiness: the process answers, the database and the event store answer (else 503).
 * Each durable subscription's lag is listed; above SUBSCRIPTION_LAG_THRESHOLD pending events the
 * status is `degraded` (still 200: webhooks are taken, the projections are catching up); so it is
 * when a consumer holds dead letters or keys being retried (poison isolation), named in `degraded`
 * as `<consumer>: N dead letters, M retrying`; and when a shop's latest connection check found refused
 * credentials or missing / drifted webhook subscriptions (`shop <platform>/<domain>: …`, listed in `shops`);
 * and while steps of running recoveries have been blocked by outside errors (store API unreachable,
 * provider failures) for longer than BLOCKED_STEP_DEGRADED_AFTER (`N steps blocked by outside errors since …`,
 * detail in `blockedSteps`; the dashboard's attention list names each one); and while a shop's latest
 * recovery-score training failed (`recovery-score training of shop … failed at …: …`).
 */
@ApiTags('operations')
@Controller('health')
export class HealthController {
  constructor(
    @Inject(RUNTIME) private readonly runtime: Runtime,
    private readonly metrics: ReclaimMetrics,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Liveness and readiness (503 when a dependency is down)' })
  async health(@Res() reply: FastifyReply): Promise<void> {
    const [database, eventStore] = await Promise.all([
      probe(() => this.runtime.pool.query('select 1').then(() => undefined)),
      probe(() => this.runtime.store.ping()),
    ]);
    const ok = database.status === 'up' && eventStore.status === 'up';
    const subscriptions: Record<
      string,
      { status: 'ok' | 'degraded'; pending: number; positions: number; deadLetters?: number; retrying?: number }
    > = {};
    const lagThreshold = this.runtime.config.SUBSCRIPTION_LAG_THRESHOLD;
    if (ok) {
      const lags = await this.metrics.lags(lagThreshold + 1).catch(() => []);
      for (const l of lags) {
        const status = l.pending > lagThreshold ? 'degraded' : 'ok';
        subscriptions[l.name] = { status, pending: l.pending, positions: l.positions };
      }
      // Poison isolation: a consumer with parked dead letters (or keys still being retried) is degraded.
      for (const c of await this.metrics.deadLetters().catch(() => [])) {
        const s = (subscriptions[c.subscription] ??= { status: 'ok', pending: 0, positions: 0 });
        s.status = 'degraded';
        if (c.status === 'parked') s.deadLetters = (s.deadLetters ?? 0) + c.keys;
        else s.retrying = (s.retrying ?? 0) + c.keys;
      }
    }
    const degradedNames = Object.entries(subscriptions)
      .filter(([, s]) => s.status === 'degraded')
      .map(([name, s]) => {
        const why = [
          s.deadLetters ? `${s.deadLetters} dead letter${s.deadLetters === 1 ? '' : 's'}` : '',
          s.retrying ? `${s.retrying} retrying` : '',
          s.pending > this.runtime.config.SUBSCRIPTION_LAG_THRESHOLD ? `${s.pending} pending` : '',
        ].filter(Boolean);
        return `${name}: ${why.join(', ')}`;
      });
    // Shops whose latest connection check found refused credentials or missing/drifted subscriptions.
    const shops = ok ? await this.runtime.shops.connectionProblems().catch(() => []) : [];
    for (const p of shops) degradedNames.push(`shop ${p.platform}/${p.shopDomain}: ${p.problem}`);
    const blocked = ok
      ? await blockedStepsSummary(
          this.runtime.pool,
          new Date(this.runtime.clock().getTime() - this.runtime.config.blockedStepDegradedAfterMs),
        ).catch(() => undefined)
      : undefined;
    if (blocked !== undefined && blocked.steps > 0) {
      degradedNames.push(
        `${blocked.steps} step${blocked.steps === 1 ? '' : 's'} blocked by outside errors since ${blocked.oldestSince ?? '?'} (see the dashboard's attention list)`,
      );
    }
    // Recovery-score trainings whose latest attempt failed (RFC 0011): the shop keeps its live model, if any.
    const trainings = ok ? await failedModelTrainings(this.runtime.pool).catch(() => []) : [];
    for (const f of trainings.filter((t) => t.lastOutcome === 'failed')) {
      degradedNames.push(
        `recovery-score training of shop ${f.shopId} failed at ${f.lastFailedAt ?? '?'}: ${f.lastError ?? 'unknown'}`,
      );
    }
    const degraded = degradedNames.length > 0;
    await reply.status(ok ? 200 : 503).send({
      status: ok ? (degraded ? 'degraded' : 'ok') : 'unavailable',
      ...(ok && degraded ? { degraded: degradedNames } : {}),
      checks: { database, eventStore },
      subscriptions,
      ...(blocked !== undefined && blocked.steps > 0 ? { blockedSteps: blocked } : {}),
      ...(shops.length > 0
        ? {
            shops: shops.map((p) => ({
              id: p.id,
              platform: p.platform,
              shopDomain: p.shopDomain,
              problem: p.problem,
              checkedAt: p.checkedAt.toISOString(),
            })),
          }
        : {}),
    });
  }
}

async function probe(fn: () => Promise<void>, timeoutMs = 2000): Promise<Check> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      fn(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return { status: 'up' };
  } catch (err) {
    return { status: 'down', error: err instanceof Error ? err.message : String(err) };
  } finally {
    clearTimeout(timer);
  }
}
