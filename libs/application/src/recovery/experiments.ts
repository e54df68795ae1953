/**
 * Experiments of step variants in the engine (RFC 0016):
 *
 * - the index `engine.variant_assignments` / `engine.variant_outcomes`, written by the
 *   `engine.recovery-events` subscription in its transaction (a projection of the log like the
 *   other engine index tables: drop, reset the checkpoint, replay);
 * - the evidence of each experiment's variants at a moment (settled rewards by the shared rule,
 *   `rewardStatus`: a purchase within the attribution window of the decision, or final without);
 * - the snapshots a recovery's start needs (adopted and stopped variants from the experiment
 *   streams, settled evidence), cached per shop for a few seconds;
 * - the evaluator: per experiment, `EvaluateExperiment` on its stream (guardrails, posteriors,
 *   adoption), appended with the stream's expected revision.
 */
import { randomInt, randomUUID } from 'node:crypto';
import {
  CURRENT_SCHEMA_VERSIONS,
  experimentDecider,
  experimentSnapshot,
  experimentStream,
  foldEvents,
  parseExperimentId,
  type ExperimentEvent,
  posteriorsOf,
  probabilityBest,
  seededUniform,
  seedOf,
  type ExperimentSettings,
  type ExperimentSnapshot,
  type ExperimentState,
  type RecoveryEvent,
  type SequenceCatalogue,
  type StepVariant,
  type VariantEvidence,
  warmPropensities,
} from '@reclaim/domain';
import { readStreams, type EventStore, type NewEvent } from '@reclaim/event-store';
import type { Queryable } from './db';

export const VARIANT_INDEX_SQL = `
CREATE TABLE IF NOT EXISTS engine.variant_assignments (
  recovery_id text NOT NULL,
  step integer NOT NULL,
  shop_id text NOT NULL,
  experiment_id text NOT NULL,
  variant_id text NOT NULL,
  segment text NOT NULL,
  mode text NOT NULL,
  arm text,
  propensity double precision NOT NULL,
  decided_at timestamptz NOT NULL,
  overrides jsonb NOT NULL DEFAULT '{}'::jsonb,
  sent_at timestamptz,
  complained boolean NOT NULL DEFAULT false,
  PRIMARY KEY (recovery_id, step)
);
CREATE INDEX IF NOT EXISTS variant_assignments_experiment ON engine.variant_assignments (shop_id, experiment_id);
-- What settles the reward of a recovery with an assignment, and its guardrail facts.
CREATE TABLE IF NOT EXISTS engine.variant_outcomes (
  recovery_id text PRIMARY KEY,
  shop_id text NOT NULL,
  purchased_at timestamptz,
  order_id text,
  ended_at timestamptz,
  end_reason text,
  revenue numeric,
  discount_used boolean,
  discount_percent integer NOT NULL DEFAULT 0,
  unsubscribed_at timestamptz
);
`;

/**
 * The error code of `recovery.delivery-reported` for an e-mail its recipient marked as spam (the
 * provider's feedback loop, e.g. Klaviyo's "Marked Email as Spam"; status `delivered`).
 */
export const EMAIL_SPAM_COMPLAINT = 'spam-complaint';

/**
 * Complaints the guardrails count: an e-mail marked as spam, and Twilio 30007 (the carrier filtered
 * the SMS as spam, the complaint an SMS provider reports).
 */
const COMPLAINT_CODES = [EMAIL_SPAM_COMPLAINT, '30007'];

/** The index's writes for one recovery event (called by the recovery-events projector). */
export const variantIndex = {
  async apply(tx: Queryable, e: RecoveryEvent, shopId: string): Promise<void> {
    switch (e.type) {
      case 'recovery.variant-assigned':
        await tx.query(
          `INSERT INTO engine.variant_assignments
             (recovery_id, step, shop_id, experiment_id, variant_id, segment, mode, arm, propensity, decided_at, overrides)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
           ON CONFLICT (recovery_id, step) DO NOTHING`,
          [
            e.recoveryId,
            e.step,
            shopId,
            e.experimentId,
            e.variantId,
            e.segment,
            e.mode,
            e.arm ?? null,
            e.propensity,
            e.decidedAt,
            JSON.stringify(e.overrides),
          ],
        );
        await tx.query(
          `INSERT INTO engine.variant_outcomes (recovery_id, shop_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
          [e.recoveryId, shopId],
        );
        return;
      case 'recovery.message-sent':
        await tx.query(
          `UPDATE engine.variant_assignments SET sent_at = COALESCE(sent_at, $3) WHERE recovery_id = $1 AND step = $2`,
          [e.recoveryId, e.step, e.at],
        );
        if (e.sent?.discount !== undefined) {
          await tx.query(
            `UPDATE engine.variant_outcomes SET discount_percent = GREATEST(discount_percent, $2) WHERE recovery_id = $1`,
            [e.recoveryId, e.sent.discount.percent],
          );
        }
        return;
      case 'recovery.delivery-reported':
        if (e.errorCode === undefined || !COMPLAINT_CODES.includes(e.errorCode)) return;
        await tx.query(`UPDATE engine.variant_assignments SET complained = true WHERE recovery_id = $1 AND step = $2`, [
          e.recoveryId,
          e.step,
        ]);
        return;
      case 'recovery.channel-revoked':
        await tx.query(
          `UPDATE engine.variant_outcomes SET unsubscribed_at = COALESCE(unsubscribed_at, $2) WHERE recovery_id = $1`,
          [e.recoveryId, e.at],
        );
        return;
      case 'recovery.order-attributed':
        await tx.query(
          `UPDATE engine.variant_outcomes SET revenue = COALESCE(revenue, 0) + $2::numeric, discount_used = COALESCE(discount_used, false) OR $3
           WHERE recovery_id = $1`,
          [e.recoveryId, e.revenue, e.discountUsed],
        );
        return;
      case 'recovery.ended':
        await variantIndex.endedMany(tx, [e]);
        return;
      default:
        return;
    }
  },

  /**
   * The ends of a run of recoveries in one statement (most have no variant: the UPDATE matches
   * nothing), so the projector's batches keep a constant number of round trips.
   */
  async endedMany(
    tx: Queryable,
    ends: readonly {
      readonly recoveryId: string;
      readonly at: string;
      readonly reason: string;
      readonly orderId?: string;
    }[],
  ): Promise<void> {
    if (ends.length === 0) return;
    await tx.query(
      `UPDATE engine.variant_outcomes o SET ended_at = COALESCE(o.ended_at, x.at), end_reason = COALESCE(o.end_reason, x.reason),
         purchased_at = CASE WHEN x.reason = 'purchased' THEN COALESCE(o.purchased_at, x.at) ELSE o.purchased_at END,
         order_id = COALESCE(o.order_id, x.order_id),
         unsubscribed_at = CASE WHEN x.reason = 'opted-out' THEN COALESCE(o.unsubscribed_at, x.at) ELSE o.unsubscribed_at END
         FROM (SELECT DISTINCT ON (recovery_id) * FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::text[])
                 AS u(recovery_id, at, reason, order_id) ORDER BY recovery_id, at) x
        WHERE o.recovery_id = x.recovery_id`,
      [
        ends.map((x) => x.recoveryId),
        ends.map((x) => x.at),
        ends.map((x) => x.reason),
        ends.map((x) => x.orderId ?? null),
      ],
    );
  },
};

/** The event types the index reads (the projector hands only these over). */
export const VARIANT_INDEX_EVENTS: ReadonlySet<string> = new Set([
  'recovery.variant-assigned',
  'recovery.message-sent',
  'recovery.delivery-reported',
  'recovery.channel-revoked',
  'recovery.order-attributed',
  'recovery.ended',
]);

export interface ExperimentEvidence {
  readonly experimentId: string;
  readonly variants: VariantEvidence[];
  /** The variants as assigned (id and the fields each set), for an experiment's opening. */
  readonly seen: StepVariant[];
}

/**
 * Each experiment's evidence per variant at `now`, live-treated recoveries only. A reward is
 * settled by the shared rule (`rewardStatus`): recovered = a purchase within the attribution window
 * of the decision; final also when the recovery ended without one or the window closed. Its value
 * is the order's revenue (the attributed orders', else the purchase's order total), i.e. the order
 * value less the discount it cost (`recoveryReward`); the discount cost is the order's discount
 * estimated from the highest percent the recovery sent (`discountCostOf`).
 */
export async function experimentEvidence(
  q: Queryable,
  shopId: string,
  attributionWindowMs: number,
  now: Date,
): Promise<ExperimentEvidence[]> {
  const { rows } = await q.query<{
    experiment_id: string;
    variant_id: string;
    overrides: Omit<StepVariant, 'id'>;
    assignments: number;
    settled: number;
    recovered: number;
    net: string | null;
    net_squares: string | null;
    discount_cost: string | null;
    messages: number;
    unsubscribes: number;
    complaints: number;
  }>(
    `WITH facts AS (
       SELECT a.experiment_id, a.variant_id, a.overrides, a.sent_at, a.complained, o.unsubscribed_at,
              (o.purchased_at IS NOT NULL AND o.purchased_at <= a.decided_at + $2 * interval '1 millisecond') AS recovered,
              (o.purchased_at IS NOT NULL OR o.ended_at IS NOT NULL
                 OR $3::timestamptz > a.decided_at + $2 * interval '1 millisecond') AS settled,
              COALESCE(o.revenue, co.total::numeric, 0) AS revenue,
              COALESCE(o.discount_used, co.discounted, false) AS discount_used,
              o.discount_percent
         FROM engine.variant_assignments a
         JOIN engine.variant_outcomes o ON o.recovery_id = a.recovery_id
         LEFT JOIN engine.customer_orders co ON co.shop_id = a.shop_id AND co.order_id = o.order_id
        WHERE a.shop_id = $1 AND a.arm = 'live-treated'
     ), valued AS (
       SELECT *, CASE WHEN discount_used AND discount_percent > 0 AND discount_percent < 100
                      THEN round(revenue * discount_percent / (100 - discount_percent), 2) ELSE 0 END AS discount_cost
         FROM facts
     )
     SELECT experiment_id, variant_id, (array_agg(overrides))[1] AS overrides,
            count(*)::int AS assignments,
            count(*) FILTER (WHERE settled)::int AS settled,
            count(*) FILTER (WHERE settled AND recovered)::int AS recovered,
            sum(revenue) FILTER (WHERE settled AND recovered)::text AS net,
            sum(revenue * revenue) FILTER (WHERE settled AND recovered)::text AS net_squares,
            sum(discount_cost) FILTER (WHERE settled AND recovered)::text AS discount_cost,
            count(*) FILTER (WHERE sent_at IS NOT NULL)::int AS messages,
            count(*) FILTER (WHERE sent_at IS NOT NULL AND unsubscribed_at >= sent_at)::int AS unsubscribes,
            count(*) FILTER (WHERE complained)::int AS complaints
       FROM valued
      GROUP BY experiment_id, variant_id
      ORDER BY experiment_id, variant_id`,
    [shopId, attributionWindowMs, now.toISOString()],
  );
  const out = new Map<string, ExperimentEvidence>();
  for (const r of rows) {
    let x = out.get(r.experiment_id);
    if (x === undefined) out.set(r.experiment_id, (x = { experimentId: r.experiment_id, variants: [], seen: [] }));
    x.variants.push({
      variantId: r.variant_id,
      assignments: r.assignments,
      settled: r.settled,
      recovered: r.recovered,
      netRevenue: Number(r.net ?? 0),
      netRevenueSquares: Number(r.net_squares ?? 0),
      discountCost: Number(r.discount_cost ?? 0),
      messages: r.messages,
      unsubscribes: r.unsubscribes,
      complaints: r.complaints,
    });
    x.seen.push({ id: r.variant_id, ...r.overrides });
  }
  return [...out.values()];
}

/** The states of a shop's experiment streams. */
export async function experimentStates(
  store: EventStore,
  shopId: string,
  experimentIds: readonly string[],
): Promise<
  Map<
    string,
    {
      state: ExperimentState;
      history: { type: string; data: Record<string, unknown> }[];
      revision: bigint | 'no_stream';
    }
  >
> {
  const names = experimentIds.map((id) => experimentStream(shopId, id));
  const streams = await readStreams(store, names);
  return new Map(
    experimentIds.map((id, i) => {
      const events = streams.get(names[i]) ?? [];
      const history = events.map((e) => ({ type: e.type, data: e.data as Record<string, unknown> }));
      const state = foldEvents(
        experimentDecider,
        events.map((e) => ({ type: e.type, schemaVersion: e.schemaVersion, data: e.data }) as ExperimentEvent),
      );
      const last = events[events.length - 1];
      return [id, { state, history, revision: last === undefined ? ('no_stream' as const) : last.revision }];
    }),
  );
}

export interface ExperimentSourceDeps {
  readonly store: EventStore;
  readonly pool: Queryable;
  /** The shop's attribution window (its recovery configuration's). */
  readonly attributionWindowMs: (shopId: string) => Promise<number>;
  readonly now?: () => Date;
  /** How long a shop's snapshots are reused (default 5 s). */
  readonly ttlMs?: number;
  /**
   * The shop's `experiments.draws`: with it, each refresh computes the propensities the next
   * assignments will use (`warmPropensities`), so the recoveries' starts find them memoised.
   */
  readonly draws?: (shopId: string) => Promise<number>;
}

/** The snapshots a recovery's start needs, per shop, cached for `ttlMs`. */
export class ExperimentSource {
  private readonly cache = new Map<string, { at: number; value: Record<string, ExperimentSnapshot> }>();

  constructor(private readonly deps: ExperimentSourceDeps) {}

  async forShop(shopId: string): Promise<Record<string, ExperimentSnapshot>> {
    const now = (this.deps.now ?? (() => new Date()))();
    const hit = this.cache.get(shopId);
    if (hit !== undefined && now.getTime() - hit.at < (this.deps.ttlMs ?? 5000)) return hit.value;
    const evidence = await experimentEvidence(this.deps.pool, shopId, await this.deps.attributionWindowMs(shopId), now);
    const states = await experimentStates(
      this.deps.store,
      shopId,
      evidence.map((e) => e.experimentId),
    );
    const value = Object.fromEntries(
      evidence.map((e) => [e.experimentId, experimentSnapshot(states.get(e.experimentId)!.state, e.variants)]),
    );
    this.cache.set(shopId, { at: now.getTime(), value });
    if (this.deps.draws !== undefined) {
      const draws = await this.deps.draws(shopId);
      for (const e of evidence) {
        const state = states.get(e.experimentId)!.state;
        const parsed = parseExperimentId(e.experimentId);
        if (parsed === undefined || state.variants.length < 2) continue;
        warmPropensities(e.experimentId, parsed.step, state.variants, value[e.experimentId], draws);
      }
    }
    return value;
  }

  /** Forget a shop's snapshots (an experiment of it changed). */
  forget(shopId: string): void {
    this.cache.delete(shopId);
  }
}

/** A seed for a recovery's draws (recorded on its assignments). */
export const experimentSeed = (): number => randomInt(0, 2 ** 31 - 1);

export interface ExperimentEvaluatorDeps {
  readonly store: EventStore;
  readonly pool: Queryable;
  /** The shop's experiment settings and attribution window (from its recovery configuration). */
  readonly settings: (shopId: string) => Promise<{ experiments: ExperimentSettings; attributionWindowMs: number }>;
  /** The shop's current catalogue: the variants of an experiment opened for its current version. */
  readonly catalogue?: (shopId: string) => Promise<SequenceCatalogue>;
  readonly now?: () => Date;
  readonly seed?: () => number;
  /** Told after an experiment's stream changed (the start contexts' cache forgets the shop). */
  readonly onChanged?: (shopId: string) => void;
}

export interface EvaluationSummary {
  readonly experiments: number;
  readonly events: Record<string, number>;
}

/** Evaluates a shop's experiments: one `EvaluateExperiment` per experiment with assignments. */
export class ExperimentEvaluator {
  constructor(private readonly deps: ExperimentEvaluatorDeps) {}

  /** The shops with assignments (the engine evaluates these). */
  async shops(): Promise<string[]> {
    const { rows } = await this.deps.pool.query<{ shop_id: string }>(
      `SELECT DISTINCT shop_id FROM engine.variant_assignments`,
    );
    return rows.map((r) => r.shop_id);
  }

  async evaluateAll(): Promise<EvaluationSummary> {
    const total: Record<string, number> = {};
    let experiments = 0;
    for (const shopId of await this.shops()) {
      const s = await this.evaluateShop(shopId);
      experiments += s.experiments;
      for (const [k, v] of Object.entries(s.events)) total[k] = (total[k] ?? 0) + v;
    }
    return { experiments, events: total };
  }

  async evaluateShop(shopId: string): Promise<EvaluationSummary> {
    const now = (this.deps.now ?? (() => new Date()))();
    const { experiments: settings, attributionWindowMs } = await this.deps.settings(shopId);
    const evidence = await experimentEvidence(this.deps.pool, shopId, attributionWindowMs, now);
    const states = await experimentStates(
      this.deps.store,
      shopId,
      evidence.map((e) => e.experimentId),
    );
    const catalogue = await this.deps.catalogue?.(shopId);
    const counts: Record<string, number> = {};
    let changed = false;
    for (const e of evidence) {
      const id = parseExperimentId(e.experimentId);
      const current = states.get(e.experimentId)!;
      if (id === undefined || current.state.status === 'closed') continue;
      const defined = catalogue?.sequences.find((s) => s.id === id.sequenceId && s.version === id.sequenceVersion)
        ?.steps[id.step]?.variants;
      const variants = defined ?? e.seen;
      if (current.state.status === 'none' && variants.length < 2) continue;
      const events = experimentDecider.decide(
        {
          type: 'EvaluateExperiment',
          shopId,
          experimentId: e.experimentId,
          definition: { ...id, variants },
          evidence: e.variants,
          settings,
          seed: (this.deps.seed ?? experimentSeed)(),
          at: now.toISOString(),
        },
        current.state,
      );
      if (events.length === 0) continue;
      const stored: NewEvent[] = events.map((x) => ({
        id: randomUUID(),
        type: x.type,
        schemaVersion: CURRENT_SCHEMA_VERSIONS[x.type],
        data: x.data,
        metadata: { shopId },
      }));
      await this.deps.store.append(experimentStream(shopId, e.experimentId), stored, current.revision);
      for (const x of events) counts[x.type] = (counts[x.type] ?? 0) + 1;
      changed = true;
    }
    if (changed) this.deps.onChanged?.(shopId);
    return { experiments: evidence.length, events: counts };
  }
}

export interface ExperimentArmReport extends VariantEvidence {
  readonly status: 'running' | 'stopped' | 'adopted' | 'closed';
  /** Posterior means: recovery rate, net revenue given recovery, net revenue per recovery. */
  readonly recoveryRate: number;
  readonly valueMean: number;
  readonly meanReward: number;
  /** Probability of being best among the running variants now; a closed experiment's last evaluation's; null when stopped. */
  readonly probabilityBest: number | null;
}

export interface ExperimentReport {
  readonly experimentId: string;
  readonly sequenceId: string;
  readonly sequenceVersion: number;
  readonly step: number;
  readonly segment: string;
  readonly status: 'pending' | 'running' | 'closed';
  readonly closeReason?: string;
  readonly adoptedVariantId?: string;
  readonly arms: readonly ExperimentArmReport[];
  /** The experiment's stream without its evaluations: opened, stopped, adopted, closed. */
  readonly history: readonly { readonly type: string; readonly at: string; readonly detail: Record<string, unknown> }[];
  /** Evaluations recorded. */
  readonly evaluations: number;
}

/** Every experiment of a shop as it stands at `now` (the dashboard's and the API's view). */
export async function experimentReports(
  store: EventStore,
  q: Queryable,
  shopId: string,
  attributionWindowMs: number,
  now: Date,
  draws = 4000,
): Promise<ExperimentReport[]> {
  const evidence = await experimentEvidence(q, shopId, attributionWindowMs, now);
  const states = await experimentStates(
    store,
    shopId,
    evidence.map((e) => e.experimentId),
  );
  return evidence.map((e) => {
    const id = parseExperimentId(e.experimentId);
    const { state, history } = states.get(e.experimentId)!;
    const stopped = new Set(state.stopped);
    const running = state.status !== 'closed' ? e.variants.filter((v) => !stopped.has(v.variantId)) : [];
    const posteriors = posteriorsOf(e.variants);
    // A closed experiment keeps the probabilities of its last evaluation.
    const lastEvaluation = [...history].reverse().find((h) => h.type === 'experiment.evaluated');
    const lastBest = new Map(
      ((lastEvaluation?.data.arms ?? []) as { variantId: string; probabilityBest: number }[]).map((a) => [
        a.variantId,
        a.probabilityBest,
      ]),
    );
    const best =
      running.length >= 2
        ? probabilityBest(posteriorsOf(running), seededUniform(seedOf(e.experimentId)), draws)
        : running.map(() => 1);
    return {
      experimentId: e.experimentId,
      sequenceId: id?.sequenceId ?? '',
      sequenceVersion: id?.sequenceVersion ?? 0,
      step: id?.step ?? 0,
      segment: id?.segment ?? '',
      status: state.status === 'none' ? 'pending' : state.status,
      ...(state.closeReason !== undefined ? { closeReason: state.closeReason } : {}),
      ...(state.adoptedVariantId !== undefined ? { adoptedVariantId: state.adoptedVariantId } : {}),
      arms: e.variants.map((v, i) => {
        const p = posteriors[i];
        const r = running.findIndex((x) => x.variantId === v.variantId);
        return {
          ...v,
          status:
            state.adoptedVariantId === v.variantId
              ? 'adopted'
              : stopped.has(v.variantId)
                ? 'stopped'
                : state.status === 'closed'
                  ? 'closed'
                  : 'running',
          recoveryRate: p.alpha / (p.alpha + p.beta),
          valueMean: p.valueMean,
          meanReward: p.meanReward,
          probabilityBest: r >= 0 ? best[r] : (lastBest.get(v.variantId) ?? null),
        };
      }),
      history: history
        .filter((h) => h.type !== 'experiment.evaluated')
        .map((h) => {
          const { shopId: _s, experimentId: _e, at, ...detail } = h.data;
          return { type: h.type, at: String(at), detail };
        }),
      evaluations: history.filter((h) => h.type === 'experiment.evaluated').length,
    };
  });
}
