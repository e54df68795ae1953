import type { Pool } from 'pg';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { EffectMetrics, ProviderMetrics, WebhookMetrics } from '@reclaim/ports';
import { countDeadLetters, type EventStore, type RecordedEvent } from '@reclaim/event-store';
import { subscriptionLags, type SubscriptionRef } from './lag';
import { failedModelTrainings } from '../queries/models';

/** Distinct label values kept per label before the rest is reported as `other` (no unbounded cardinality). */
const MAX_LABEL_VALUES = 64;

class BoundedLabel {
  private readonly seen = new Set<string>();
  value(raw: string): string {
    const v = /^[A-Za-z0-9_./:-]{1,64}$/.test(raw) ? raw : 'other';
    if (this.seen.has(v)) return v;
    if (this.seen.size >= MAX_LABEL_VALUES) return 'other';
    this.seen.add(v);
    return v;
  }
}

export interface ReclaimMetricsDeps {
  readonly pool: Pool;
  readonly store: EventStore;
  /** Subscriptions whose lag is reported (checkpoint names and filters). */
  readonly subscriptions: readonly SubscriptionRef[];
  /** Process metrics (CPU, memory, event loop). Default true. */
  readonly defaultMetrics?: boolean;
}

/**
 * The appliance's Prometheus metrics (prom-client, its own registry). Counters are fed by the
 * ingestion use case (`WebhookMetrics`), the instrumented event store, the recoveries projection
 * (send outcomes) and `ProviderMetrics`; lag and timer gauges are read from Postgres at scrape time.
 */
const SUPPORT_FAILURES = new Set(['timeout', 'unavailable', 'refused', 'bad-response', 'no-email']);

export class ReclaimMetrics implements WebhookMetrics, ProviderMetrics, EffectMetrics {
  readonly registry = new Registry();
  private readonly topics = new BoundedLabel();
  private readonly providers = new BoundedLabel();

  private readonly webhooks = new Counter({
    name: 'reclaim_webhooks_total',
    help: 'Webhook deliveries by platform, topic and outcome (accepted, parked, quarantined, ping, rejected-<status>)',
    labelNames: ['platform', 'topic', 'outcome'] as const,
    registers: [this.registry],
  });
  private readonly appendSeconds = new Histogram({
    name: 'reclaim_event_append_seconds',
    help: 'Event store append latency (webhook ingestion)',
    labelNames: ['outcome'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  private readonly sends = new Counter({
    name: 'reclaim_sends_total',
    help: 'Recovery step outcomes by channel and outcome (sent, skipped, deferred, failed, unknown, dead-lettered)',
    labelNames: ['channel', 'outcome'] as const,
    registers: [this.registry],
  });
  private readonly providerErrors = new Counter({
    name: 'reclaim_provider_errors_total',
    help: 'Errors answered by providers (email, SMS, tickets, store APIs)',
    labelNames: ['provider', 'kind'] as const,
    registers: [this.registry],
  });
  private readonly effectRequests = new Counter({
    name: 'reclaim_effect_requests_put_back_total',
    help: 'Effect requests (step, reconcile, ticket, profile) put back by the effect runner: deferred by an outside system, retried because their handler threw, or dropped after the last attempt',
    labelNames: ['kind', 'outcome'] as const,
    registers: [this.registry],
  });
  private readonly supportLookups = new Counter({
    name: 'reclaim_support_lookups_total',
    help: "Look-ups of the customer's own help-desk tickets (at send time or from a help-desk webhook), by desk, trigger and outcome (found, or the reason it failed: timeout, unavailable, refused, bad-response, no-email)",
    labelNames: ['desk', 'trigger', 'outcome'] as const,
    registers: [this.registry],
  });
  private readonly rateLimitWaits = new Counter({
    name: 'reclaim_provider_rate_limit_waits_total',
    help: 'Times a provider call waited for a rate limit (429, Retry-After, local limiter)',
    labelNames: ['provider'] as const,
    registers: [this.registry],
  });
  private readonly rateLimitWaitSeconds = new Counter({
    name: 'reclaim_provider_rate_limit_wait_seconds_total',
    help: 'Time spent waiting for provider rate limits',
    labelNames: ['provider'] as const,
    registers: [this.registry],
  });

  private readonly partitionsOwned = new Gauge({
    name: 'reclaim_engine_partitions_owned',
    help: 'Partitions of a partitioned engine subscription this instance runs (ENGINE_PARTITIONS)',
    labelNames: ['subscription'] as const,
    registers: [this.registry],
  });
  private readonly partitionsWaiting = new Gauge({
    name: 'reclaim_engine_partitions_waiting',
    help: '1 while this instance waits for instances running another ENGINE_PARTITIONS count to stop before re-splitting',
    labelNames: ['subscription'] as const,
    registers: [this.registry],
  });
  private readonly engineEvents = new Counter({
    name: 'reclaim_engine_events_total',
    help: 'Events this instance applied in an engine subscription (all its partitions)',
    labelNames: ['subscription'] as const,
    registers: [this.registry],
  });

  constructor(private readonly deps: ReclaimMetricsDeps) {
    if (deps.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'reclaim_' });
    const { pool, store, subscriptions } = deps;
    new Gauge({
      name: 'reclaim_subscription_lag_positions',
      help: 'Global log positions between the head and the subscription checkpoint',
      labelNames: ['subscription'] as const,
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const lag of await subscriptionLags(pool, store, subscriptions))
          this.set({ subscription: lag.name }, lag.positions);
      },
    });
    new Gauge({
      name: 'reclaim_subscription_pending_events',
      help: 'Events a subscription still has to handle (counted up to 1000)',
      labelNames: ['subscription'] as const,
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const lag of await subscriptionLags(pool, store, subscriptions))
          this.set({ subscription: lag.name }, lag.pending);
      },
    });
    const timers = async () => {
      const { rows } = await pool.query<{ backlog: number; lateness: number }>(
        `SELECT count(*)::integer AS backlog,
                coalesce(extract(epoch FROM now() - min(due_at)), 0)::float8 AS lateness
           FROM engine.timers WHERE fired_at IS NULL AND superseded_at IS NULL AND due_at <= now()`,
      );
      return rows[0];
    };
    new Gauge({
      name: 'reclaim_timer_backlog',
      help: 'Timers due and not fired yet',
      registers: [this.registry],
      async collect() {
        this.set((await timers()).backlog);
      },
    });
    new Gauge({
      name: 'reclaim_timer_lateness_seconds',
      help: 'How late the oldest due, unfired timer is',
      registers: [this.registry],
      async collect() {
        this.set((await timers()).lateness);
      },
    });
    new Gauge({
      name: 'reclaim_engagement_held',
      help: 'Opens, clicks and delivery statuses that arrived before their message was recorded as sent: waiting for the send record, applied (last day), expired unmatched after ENGAGEMENT_HOLD (last 30 days)',
      labelNames: ['status'] as const,
      registers: [this.registry],
      async collect() {
        const { rows } = await pool.query<{ waiting: number; applied: number; expired: number }>(
          `SELECT count(*) FILTER (WHERE applied_at IS NULL AND expired_at IS NULL)::integer AS waiting,
                  count(*) FILTER (WHERE applied_at IS NOT NULL)::integer AS applied,
                  count(*) FILTER (WHERE expired_at IS NOT NULL)::integer AS expired
             FROM engine.held_engagement`,
        );
        for (const status of ['waiting', 'applied', 'expired'] as const) this.set({ status }, rows[0][status]);
      },
    });
    new Gauge({
      name: 'reclaim_model_trainings_failed',
      help: "Recovery-score trainings that failed per shop (read.model_status; the shop's model stream has each failure), and 1 in `failing` while the shop's latest training failed",
      labelNames: ['shop_id', 'state'] as const,
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const f of await failedModelTrainings(pool)) {
          this.set({ shop_id: f.shopId, state: 'total' }, f.failures);
          this.set({ shop_id: f.shopId, state: 'failing' }, f.lastOutcome === 'failed' ? 1 : 0);
        }
      },
    });
    new Gauge({
      name: 'reclaim_dead_letters',
      help: 'Keys (streams, customers) a background consumer could not apply, by subscription and status (retrying, parked)',
      labelNames: ['subscription', 'status'] as const,
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const c of await countDeadLetters(pool))
          this.set({ subscription: c.subscription, status: c.status }, c.keys);
      },
    });
    new Gauge({
      name: 'reclaim_dead_letter_events',
      help: 'Events held behind those keys (the failed one and the later ones of its key), by subscription and status',
      labelNames: ['subscription', 'status'] as const,
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const c of await countDeadLetters(pool))
          this.set({ subscription: c.subscription, status: c.status }, c.events);
      },
    });
  }

  delivery(platform: string, topic: string, outcome: string): void {
    this.webhooks.inc({ platform, topic: this.topics.value(topic), outcome });
  }

  send(channel: string, outcome: string): void {
    this.sends.inc({ channel, outcome });
  }

  providerError(provider: string, kind: string): void {
    this.providerErrors.inc({ provider: this.providers.value(provider), kind });
  }

  effectRequest(kind: string, outcome: 'deferred' | 'retried' | 'dropped'): void {
    this.effectRequests.inc({ kind, outcome });
  }

  rateLimitWait(provider: string, waitedMs: number): void {
    const p = this.providers.value(provider);
    this.rateLimitWaits.inc({ provider: p });
    this.rateLimitWaitSeconds.inc({ provider: p }, Math.max(0, waitedMs) / 1000);
  }

  /** Counts step outcomes from recovery events (fed by the recoveries projection's batches). */
  /** The partitions of `subscription` this instance now runs. */
  recordPartitions(subscription: string, owned: readonly number[]): void {
    this.partitionsOwned.set({ subscription }, owned.length);
  }

  /** Whether this instance waits for another partition count to stop (see `reclaim_engine_partitions_waiting`). */
  recordLayoutWait(subscription: string, waiting: boolean): void {
    this.partitionsWaiting.set({ subscription }, waiting ? 1 : 0);
  }

  /** Events applied by this instance in `subscription` (a committed batch). */
  recordEngineEvents(subscription: string, events: number): void {
    this.engineEvents.inc({ subscription }, events);
  }

  recordRecoveryEvents(events: readonly RecordedEvent[]): void {
    for (const e of events) {
      if (e.type === 'recovery.support-checked') {
        const d = e.data as { source?: string; trigger?: string; outcome?: string; reason?: string };
        this.supportLookups.inc({
          desk: d.source === 'gorgias' || d.source === 'zendesk' ? d.source : 'other',
          trigger: d.trigger === 'webhook' ? 'webhook' : 'send',
          outcome: d.outcome === 'found' ? 'found' : SUPPORT_FAILURES.has(d.reason ?? '') ? d.reason! : 'unavailable',
        });
        continue;
      }
      const outcome = SEND_OUTCOMES[e.type];
      if (!outcome) continue;
      const channel = (e.data as { channel?: string }).channel;
      this.send(channel === 'email' || channel === 'sms' ? channel : 'none', outcome);
    }
  }

  /** The same store with `append` timed into `reclaim_event_append_seconds`. */
  instrument(store: EventStore): EventStore {
    const histogram = this.appendSeconds;
    return new Proxy(store, {
      get(target, prop, receiver) {
        if (prop !== 'append') {
          const v = Reflect.get(target, prop, receiver) as unknown;
          return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
        }
        return async (...args: Parameters<EventStore['append']>) => {
          const end = histogram.startTimer();
          try {
            const result = await target.append(...args);
            end({ outcome: 'ok' });
            return result;
          } catch (err) {
            end({ outcome: 'error' });
            throw err;
          }
        };
      },
    });
  }

  async text(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  /** For /health: blocked keys per subscription and status. */
  deadLetters() {
    return countDeadLetters(this.deps.pool);
  }

  /** For /health: the lag of every subscription. */
  lags(cap?: number) {
    return subscriptionLags(this.deps.pool, this.deps.store, this.deps.subscriptions, cap);
  }
}

const SEND_OUTCOMES: Readonly<Record<string, string>> = {
  'recovery.message-sent': 'sent',
  'recovery.step-skipped': 'skipped',
  'recovery.step-deferred': 'deferred',
  'recovery.message-failed': 'failed',
  'recovery.outcome-unknown': 'unknown',
  'recovery.dead-lettered': 'dead-lettered',
};
