/**
 * The lab's engine: the appliance's recovery process manager (`createRecoveryDecider`), pre-send
 * checks (`checkBeforeSend`), send-time choice (`chooseSendTime` / `controlArmChoice`), channel
 * choice and engagement score (inside `checkBeforeSend`), last-click attribution (`attributeOrder`)
 * and the lift statistics — the same functions the appliance runs — driven by a virtual clock
 * (a priority queue of due times: a timer fires the instant it is due, nothing waits).
 *
 * What is simulated (and how) is written in docs/policy-lab.md: the event store (each recovery's
 * state is folded in memory from the events its decider emits), the engine's index tables
 * (sent messages, customer orders, engagement hours — kept here from the same events, with the
 * same definitions as the SQL that reads them in libs/application), the store (every line in stock
 * at its price) and the providers (every message accepted), and the shoppers (./shoppers.ts).
 */
import { train } from '@reclaim/learning';
import {
  attributeOrder,
  SCORE_COLUMN_KINDS,
  SCORE_COLUMNS,
  scoreRow,
  type RecoveryFeatures,
  type ScoringContext,
  checkBeforeSend,
  configForPolicyArm,
  chooseIncentive,
  chooseSendTime,
  controlArmChoice,
  createRecoveryDecider,
  discountBlocked,
  experimentDecider,
  experimentSettingsOf,
  experimentSnapshot,
  initialExperimentState,
  parseExperimentId,
  type ExperimentSnapshot,
  type ExperimentState,
  type StepVariant,
  type VariantEvidence,
  ignoredOtherRecoveryMessages,
  isInsideWindow,
  outcomeFromCheck,
  playsLadder,
  responseSegmentOf,
  sendFactsFromState,
  sendTimeWindow,
  sentOutcome,
  type Channel,
  type ChannelEvidence,
  type EngagementHistory,
  type EngagementProfile,
  type IncentiveEvidence,
  type IncentiveMode,
  type RecoveryConfig,
  type RecoveryDecider,
  type RecoveryEvent,
  type RecoveryInput,
  type RecoveryState,
  type SendCheckContext,
  type SendTimeChoice,
  type SequenceCatalogue,
  type StoredRecoveryEvent,
  type StepOutcomeResult,
} from '@reclaim/domain';
import {
  buyProbability,
  clickProbability,
  Draw,
  localHour,
  localWeekdayHour,
  makeShopper,
  openProbability,
  organicSurvival,
  uniform,
  unsubscribeProbability,
  type Shopper,
  type TrueModel,
} from './shoppers';
import type { LabLogSink } from './log-export';
import type { LabChannel } from './population';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

export type PolicyKind = 'none' | 'fixed' | 'learning' | 'oracle';

export interface LabPolicy {
  readonly name: string;
  readonly kind: PolicyKind;
  readonly config: RecoveryConfig;
  readonly catalogue: SequenceCatalogue;
  /** Oracle only: the discount levels it may offer. */
  readonly discountLevels?: readonly number[];
  /**
   * The recovery score is trained on the lab's own outcomes every `intervalMs` (SCORE_RETRAIN_INTERVAL)
   * once `minOutcomes` labelled recoveries (an order within `labelWindowMs` of abandonment) exist,
   * and every start is scored with the latest model — routing by score acts on it. Absent: no model.
   */
  readonly score?: { readonly labelWindowMs: number; readonly minOutcomes: number; readonly intervalMs: number };
}

/** One sent message as the engine's `sent_messages` table keeps it. */
export interface LabMessage {
  readonly recoveryId: string;
  readonly step: number;
  readonly channel: Channel;
  readonly sentAt: number;
  readonly percent: number;
  readonly discountCode?: string;
  readonly responseSegment: string;
  /** Why the step's discount was not offered (`sent.discountWithheld`), when it was withheld. */
  readonly withheld?: string;
  openedAt?: number;
  clickedAt?: number;
  engaged: boolean;
}

interface Customer {
  readonly key: string;
  lastOrderAt?: number;
  readonly messages: LabMessage[];
  activeRecovery?: { readonly id: string; readonly startedAt: string };
  lastDiscountRecoveryAt?: number;
  readonly profile: { hours: number[]; weekdays: number[]; events: number };
  readonly unsubscribed: Set<LabChannel>;
}

/** What really happened to a shopper under the policy. */
export interface ShopperTruth {
  received: number;
  codePercent: number;
  bought?: { readonly at: number; readonly percent: number; readonly orderTotal: number; readonly discount: number };
  /** Channel → when the shopper unsubscribed from it. */
  readonly unsubscribed: Map<LabChannel, number>;
}

export interface LabRecovery {
  readonly id: string;
  readonly shopper: Shopper;
  state: RecoveryState;
  arm?: string;
  abandonedAt?: number;
  responseSegment?: string;
  readonly messages: LabMessage[];
  /** Σ discount cost of the orders attributed to this recovery (what read.attribution holds). */
  attributedDiscountCost: number;
  orderTotal?: number;
  oraclePlans?: Map<number, OraclePlan | 'skip'>;
  features?: RecoveryFeatures;
  /** The routing band recorded at the start (`recovery.routed`), when any. */
  band?: string;
  /** Inputs the decider refused (should stay empty). */
  readonly refused: string[];
  /** Its row of `engine.incentive_assignments` (`recovery.incentive-chosen`), once chosen. */
  incentiveRow?: IncentiveRow;
  /** When it ended (`recovery.ended`). */
  endedAt?: number;
  /** Its rows of `engine.variant_assignments` (live-treated assignments). */
  variantRows?: VariantRow[];
  /** `variant_outcomes.unsubscribed_at`: a channel revoked, or the end `opted-out`. */
  unsubscribedAt?: number;
  /** `variant_outcomes.discount_used`: some attributed order used the message's code (undefined: none attributed). */
  discountUsed?: boolean;
}

/**
 * One row of `engine.incentive_assignments`: the level a recovery was given, when, and whether its
 * outcome is final yet (then it is counted in its segment's tallies; see {@link LabEngine.incentiveEvidence}).
 */
export interface IncentiveRow {
  readonly segment: string;
  readonly percent: number;
  readonly mode: IncentiveMode;
  readonly propensity: number;
  readonly decidedAt: number;
  /** The evidence the choice was made on (learned policy: the posteriors' final outcomes per level). */
  readonly seen: readonly { readonly percent: number; readonly assigned: number; readonly recovered: number }[];
  final: boolean;
}

/**
 * One row of `engine.variant_assignments` joined to its recovery's `engine.variant_outcomes`, for a
 * live-treated recovery (what `experimentEvidence` reads): settled once the recovery ended or the
 * attribution window of the assignment closed.
 */
export interface VariantRow {
  readonly rec: LabRecovery;
  readonly step: number;
  readonly experimentId: string;
  readonly variantId: string;
  readonly mode: string;
  readonly propensity: number;
  readonly decidedAt: number;
  sentAt?: number;
  settled: boolean;
}

/** One experiment: its rows in assignment order, the settled rewards per variant, its stream's state. */
interface LabExperiment {
  readonly rows: VariantRow[];
  head: number;
  readonly rewards: Map<
    string,
    { settled: number; recovered: number; netRevenue: number; netRevenueSquares: number; assignments: number }
  >;
  /** The variants as assigned (id and overrides): the definition when the catalogue has none. */
  readonly seen: Map<string, StepVariant>;
  state: ExperimentState;
  /** The experiment stream's events other than evaluations (opened, stopped, adopted, closed). */
  readonly history: { readonly type: string; readonly at: number; readonly variantId?: string }[];
}

/** What became of one experiment in a run. */
export interface ExperimentResult {
  readonly experimentId: string;
  readonly status: ExperimentState['status'];
  readonly adoptedVariantId?: string;
  readonly stopped: readonly string[];
  readonly closeReason?: string;
  readonly evidence: readonly VariantEvidence[];
  readonly history: LabExperiment['history'];
}

/** The experiments' evaluator's period in the lab (the appliance's runs every minute; see docs/policy-lab.md). */
export const EXPERIMENT_EVALUATION_MS = 6 * HOUR;

/** A response segment's rows in decision order, how far the window sweep got, and the final outcomes per level. */
interface IncentiveSegment {
  readonly rows: IncentiveRow[];
  head: number;
  readonly tallies: Map<number, { assigned: number; recovered: number }>;
}

interface OraclePlan {
  readonly channel: LabChannel;
  readonly percent: number;
  readonly at: number;
}

interface Pending {
  readonly at: number;
  readonly seq: number;
  readonly run: () => void;
}

/** A binary min-heap on (at, seq): the virtual clock's agenda. */
class Agenda {
  private readonly items: Pending[] = [];
  private seq = 0;
  get size(): number {
    return this.items.length;
  }
  push(at: number, run: () => void): void {
    const a = this.items;
    a.push({ at, seq: this.seq++, run });
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (less(a[p], a[i])) break;
      [a[p], a[i]] = [a[i], a[p]];
      i = p;
    }
  }
  pop(): Pending | undefined {
    const a = this.items;
    if (a.length === 0) return undefined;
    const top = a[0];
    const last = a.pop() as Pending;
    if (a.length > 0) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && less(a[l], a[m])) m = l;
        if (r < a.length && less(a[r], a[m])) m = r;
        if (m === i) break;
        [a[m], a[i]] = [a[i], a[m]];
        i = m;
      }
    }
    return top;
  }
}
const less = (x: Pending, y: Pending) => x.at < y.at || (x.at === y.at && x.seq < y.seq);

const iso = (ms: number) => new Date(ms).toISOString();

export interface EngineRun {
  readonly shoppers: readonly Shopper[];
  readonly truth: readonly ShopperTruth[];
  readonly recoveries: readonly (LabRecovery | undefined)[];
  readonly messagesByChannel: Record<LabChannel, number>;
  readonly decisions: number;
  readonly trainings: LabEngine['trainings'];
  /** The step variants' experiments (empty when the policy runs none). */
  readonly experiments: readonly ExperimentResult[];
}

export interface EngineOptions {
  readonly seed: number;
  readonly shoppers: number;
  readonly days: number;
  readonly shopId?: string;
  /** Receives every recorded event and order, as the appliance would store them (./log-export.ts). */
  readonly log?: LabLogSink;
}

export class LabEngine {
  private readonly pm: RecoveryDecider;
  private readonly agenda = new Agenda();
  private now = 0;
  private readonly customers = new Map<string, Customer>();
  private readonly shopProfile = {
    hours: new Array<number>(24).fill(0),
    weekdays: new Array<number>(7).fill(0),
    events: 0,
  };
  /** Tallies of `learnedEvidence`: per channel × response segment, sent and engaged. */
  private readonly tallies = new Map<string, { sent: number; engaged: number }>();
  private readonly shopTally = { sent: 0, engaged: 0 };
  private readonly messagesByChannel: Record<LabChannel, number> = { email: 0, sms: 0 };
  private decisions = 0;
  private readonly shopId: string;
  private readonly truths = new Map<number, ShopperTruth>();
  private scoring: ScoringContext | undefined;
  private modelVersion = 0;
  private readonly started: LabRecovery[] = [];
  /** `engine.incentive_assignments` by response segment (the learned discounts' evidence). */
  private readonly incentiveRows = new Map<string, IncentiveSegment>();
  /** The step variants' experiments by id (`engine.variant_assignments` / `variant_outcomes` and the streams). */
  private readonly experiments = new Map<string, LabExperiment>();
  private evaluations = 0;
  /** Every training of the recovery score: when, on how many rows, and the outcome. */
  readonly trainings: {
    readonly at: number;
    readonly rows: number;
    readonly positives: number;
    readonly version?: number;
  }[] = [];

  constructor(
    private readonly model: TrueModel,
    private readonly policy: LabPolicy,
    private readonly options: EngineOptions,
  ) {
    this.pm = createRecoveryDecider(policy.config);
    this.shopId = options.shopId ?? 'lab';
  }

  run(): EngineRun {
    const { seed, days } = this.options;
    const n = this.options.shoppers;
    const shoppers: Shopper[] = new Array(n);
    const truth: ShopperTruth[] = new Array(n);
    const recoveries: (LabRecovery | undefined)[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const sh = makeShopper(this.model, seed, i, days, this.policy.config.abandonAfterMs);
      shoppers[i] = sh;
      const t: ShopperTruth = { received: 0, codePercent: 0, unsubscribed: new Map() };
      truth[i] = t;
      this.truths.set(i, t);
      if (sh.organicAt !== undefined) {
        const at = sh.organicAt;
        this.agenda.push(at, () => this.organicPurchase(sh, t, recoveries[i]));
      }
      if (this.policy.kind === 'none') continue;
      this.agenda.push(sh.lastActivityAt, () => {
        recoveries[i] = this.cartActivity(sh, t);
      });
    }
    const score = this.policy.score;
    if (score !== undefined && this.policy.kind !== 'none' && n > 0) {
      this.scoring = { kind: 'none', outcomesNeeded: score.minOutcomes };
      let first = Infinity;
      let last = -Infinity;
      for (const sh of shoppers) {
        first = Math.min(first, sh.lastActivityAt);
        last = Math.max(last, sh.lastActivityAt);
      }
      for (let t = first + score.intervalMs; t <= last + score.intervalMs; t += score.intervalMs) {
        this.agenda.push(t, () => this.retrain(truth));
      }
    }
    if (this.runsExperiments() && n > 0) {
      let first = Infinity;
      let last = -Infinity;
      for (const sh of shoppers) {
        first = Math.min(first, sh.lastActivityAt);
        last = Math.max(last, sh.lastActivityAt);
      }
      for (
        let t = first + EXPERIMENT_EVALUATION_MS;
        t <= last + EXPERIMENT_EVALUATION_MS;
        t += EXPERIMENT_EVALUATION_MS
      ) {
        this.agenda.push(t, () => this.evaluateExperiments());
      }
    }
    for (let p = this.agenda.pop(); p !== undefined; p = this.agenda.pop()) {
      this.now = p.at;
      p.run();
    }
    return {
      shoppers,
      truth,
      recoveries,
      messagesByChannel: this.messagesByChannel,
      decisions: this.decisions,
      trainings: this.trainings,
      experiments: [...this.experiments].map(([experimentId, x]) => ({
        experimentId,
        status: x.state.status,
        ...(x.state.adoptedVariantId !== undefined ? { adoptedVariantId: x.state.adoptedVariantId } : {}),
        stopped: x.state.stopped,
        ...(x.state.closeReason !== undefined ? { closeReason: x.state.closeReason } : {}),
        evidence: this.variantEvidence(x),
        history: x.history,
      })),
    };
  }

  // ---- the engine ---------------------------------------------------------------------------

  private feed(rec: LabRecovery, input: RecoveryInput): void {
    this.decisions++;
    let events: StoredRecoveryEvent[];
    try {
      events = this.pm.decide(input, rec.state);
    } catch (e) {
      rec.refused.push(`${input.type}: ${(e as Error).message}`);
      return;
    }
    for (const e of events) {
      rec.state = this.pm.evolve(rec.state, e);
      this.options.log?.event(rec.id, e, this.now);
      this.project(rec, e);
    }
  }

  /** The engine index and the side effects of each recorded event (what the subscriptions do). */
  private project(rec: LabRecovery, e: StoredRecoveryEvent): void {
    const d = e.data as RecoveryEvent & Record<string, unknown>;
    switch (e.type) {
      case 'recovery.timer-scheduled': {
        const timerId = d.timerId as string;
        const dueAt = d.dueAt as string;
        const purpose = d.purpose as string;
        this.agenda.push(Date.parse(dueAt), () =>
          this.feed(rec, {
            type: 'TimerFired',
            timerId,
            dueAt,
            now: iso(this.now),
            ...(purpose === 'abandonment' ? { start: this.startContext(rec) } : {}),
          }),
        );
        break;
      }
      case 'recovery.started': {
        rec.arm = d.arm as string;
        rec.abandonedAt = Date.parse(d.abandonedAt as string);
        this.started.push(rec);
        const c = this.customer(rec.shopper);
        if (c.activeRecovery === undefined) c.activeRecovery = { id: rec.id, startedAt: d.at as string };
        break;
      }
      case 'recovery.features-recorded':
        rec.features = d.features as unknown as RecoveryFeatures;
        break;
      case 'recovery.routed':
        rec.band = d.band as unknown as string;
        break;
      case 'recovery.segmented':
        rec.responseSegment = responseSegmentOf(rec.state.segments);
        break;
      case 'recovery.step-due': {
        const due = { ...d, type: 'recovery.step-due' } as Extract<RecoveryEvent, { type: 'recovery.step-due' }>;
        this.agenda.push(this.now, () => this.sendStep(rec, due));
        break;
      }
      case 'recovery.message-sent': {
        const sent = d.sent as { discount?: { percent: number }; discountWithheld?: string } | undefined;
        for (const v of rec.variantRows ?? []) if (v.step === d.step) v.sentAt ??= this.now;
        this.sent(
          rec,
          d.step as number,
          d.channel as Channel,
          d.discountCode as string | undefined,
          sent?.discount?.percent ?? 0,
          sent?.discountWithheld,
        );
        break;
      }
      case 'recovery.variant-assigned': {
        // engine.variant_assignments; only live-treated assignments are evidence (the others send nothing).
        if (d.arm !== 'live-treated') break;
        const experimentId = d.experimentId as string;
        const variantId = d.variantId as string;
        const x = this.experiment(experimentId);
        const row: VariantRow = {
          rec,
          step: d.step as number,
          experimentId,
          variantId,
          mode: d.mode as string,
          propensity: d.propensity as number,
          decidedAt: Date.parse(d.decidedAt as string),
          settled: false,
        };
        x.rows.push(row);
        this.reward(x, variantId).assignments++;
        if (!x.seen.has(variantId)) x.seen.set(variantId, { id: variantId, ...(d.overrides as object) });
        (rec.variantRows ??= []).push(row);
        break;
      }
      case 'recovery.channel-revoked':
        rec.unsubscribedAt ??= Date.parse(d.at as string);
        break;
      case 'recovery.incentive-chosen': {
        const posteriors = (d.posteriors ?? []) as readonly { percent: number; assigned: number; recovered: number }[];
        const row: IncentiveRow = {
          segment: d.segment as string,
          percent: d.percent as number,
          mode: d.mode as IncentiveMode,
          propensity: d.propensity as number,
          decidedAt: Date.parse(d.at as string),
          seen: posteriors.map((p) => ({ percent: p.percent, assigned: p.assigned, recovered: p.recovered })),
          final: false,
        };
        rec.incentiveRow = row;
        // A recovery that plays the ladder (fixed, or the learned policy's ladder arm) is evidence of no single level.
        if (!playsLadder(row.mode)) this.incentiveSegment(row.segment).rows.push(row);
        break;
      }
      case 'recovery.order-attributed':
        break;
      case 'recovery.ended': {
        rec.endedAt = Date.parse(d.at as string);
        if (d.reason === 'opted-out') rec.unsubscribedAt ??= rec.endedAt;
        for (const v of rec.variantRows ?? []) {
          if (v.settled) continue;
          const purchased = d.reason === 'purchased';
          this.settleVariant(v, purchased && rec.endedAt <= v.decidedAt + this.policy.config.attributionWindowMs);
        }
        const row = rec.incentiveRow;
        if (row !== undefined && !row.final && !playsLadder(row.mode)) {
          // ended_at / end_reason on the row: final now; recovered = purchased within the window of the choice.
          const at = Date.parse(d.at as string);
          this.settle(row, d.reason === 'purchased' && at <= row.decidedAt + this.policy.config.attributionWindowMs);
        }
        const c = this.customer(rec.shopper);
        if (c.activeRecovery?.id === rec.id) c.activeRecovery = undefined;
        if (d.reason === 'purchased') {
          const at = Date.parse(d.at as string);
          for (const m of rec.messages) if (m.sentAt < at) this.engage(m);
          if (rec.messages.some((m) => m.discountCode !== undefined)) c.lastDiscountRecoveryAt = at;
        }
        break;
      }
      default:
        break;
    }
  }

  private customer(sh: Shopper): Customer {
    let c = this.customers.get(sh.customerKey);
    if (c === undefined) {
      c = {
        key: sh.customerKey,
        messages: [],
        profile: { hours: new Array<number>(24).fill(0), weekdays: new Array<number>(7).fill(0), events: 0 },
        unsubscribed: new Set(),
      };
      // The customer's past orders, counted in their zone like the engine counts orders.
      for (const t of sh.pastOrderTimes) this.countEngagement(c, sh.zone, t);
      if (sh.pastOrderTimes.length > 0) c.lastOrderAt = sh.pastOrderTimes[sh.pastOrderTimes.length - 1];
      this.customers.set(sh.customerKey, c);
    }
    return c;
  }

  private countEngagement(c: Customer, zone: string, at: number): void {
    const { weekday, hour } = localWeekdayHour(zone, at);
    c.profile.hours[hour]++;
    c.profile.weekdays[weekday]++;
    c.profile.events++;
    this.shopProfile.hours[hour]++;
    this.shopProfile.weekdays[weekday]++;
    this.shopProfile.events++;
  }

  private cartActivity(sh: Shopper, _t: ShopperTruth): LabRecovery {
    const rec: LabRecovery = {
      id: `recovery-${this.shopId}-cart-${sh.index}`,
      shopper: sh,
      state: this.pm.initialState(),
      messages: [],
      attributedDiscountCost: 0,
      refused: [],
    };
    this.customer(sh);
    const value = sh.value.toFixed(2);
    this.feed(rec, {
      type: 'CartActivity',
      shopId: this.shopId,
      cartId: `cart-${sh.index}`,
      at: iso(this.now),
      cart: {
        value,
        currency: this.model.population.currency,
        items: [{ lineId: 'line-1', productId: `product-${sh.segmentIndex}`, quantity: 1, unitPrice: value }],
        reach: { email: sh.reach.email, sms: sh.reach.sms },
        customerKey: sh.customerKey,
        device: sh.mobile ? 'mobile' : 'desktop',
        checkoutStage: 'shipping',
        timeZone: sh.zone,
      },
    });
    return rec;
  }

  private startContext(rec: LabRecovery) {
    const sh = rec.shopper;
    const c = this.customer(sh);
    return {
      customer: {
        ordersCount: sh.pastOrders,
        totalSpent: (sh.pastOrders * sh.segment.cartValue.median).toFixed(2),
        ...(c.lastOrderAt !== undefined ? { lastPurchaseAt: iso(c.lastOrderAt) } : {}),
        previousAbandonments: 0,
        previousRecoveries: 0,
        discountOrdersCount: 0,
        categoriesBought: [],
        ignoredRecoveryMessages: 0,
      },
      sequences: this.policy.catalogue,
      random: sh.holdoutDraw,
      shopTimeZone: this.model.population.shopTimeZone,
      sendTimeRandom: sh.sendTimeDraw,
      policyRandom: sh.policyDraw,
      ...(this.scoring !== undefined ? { scoring: this.scoring } : {}),
      ...(this.runsExperiments()
        ? {
            experiments: {
              seed: Math.floor(uniform(this.options.seed, sh.index, 0, Draw.Experiments) * 2 ** 31),
              experiments: this.experimentSnapshots(),
            },
          }
        : {}),
    };
  }

  /**
   * The recovery score's training (model-trainer.ts and training-table.ts): every started recovery
   * abandoned at least the label window ago, its recorded features, label 1 when the customer
   * ordered within the window; trained by `train` of @reclaim/learning with the score's columns.
   * The newest model always goes live (the appliance's champion/challenger check is not run).
   */
  private retrain(truth: readonly ShopperTruth[]): void {
    const score = this.policy.score;
    if (score === undefined) return;
    const closedBefore = this.now - score.labelWindowMs;
    const rows = [];
    const labels: number[] = [];
    for (const rec of this.started) {
      if (rec.features === undefined || rec.abandonedAt === undefined || rec.abandonedAt > closedBefore) continue;
      const b = truth[rec.shopper.index].bought;
      rows.push(scoreRow(rec.features));
      labels.push(b !== undefined && b.at >= rec.abandonedAt && b.at <= rec.abandonedAt + score.labelWindowMs ? 1 : 0);
    }
    const positives = labels.reduce((a, b) => a + b, 0);
    if (rows.length < score.minOutcomes || positives === 0 || positives === rows.length) {
      this.scoring = { kind: 'none', outcomesNeeded: Math.max(1, score.minOutcomes - rows.length) };
      this.trainings.push({ at: this.now, rows: rows.length, positives });
      return;
    }
    const model = train(rows, labels, { columns: SCORE_COLUMNS, kinds: SCORE_COLUMN_KINDS, seed: 1 });
    this.modelVersion++;
    this.scoring = { kind: 'model', version: this.modelVersion, scope: 'shop', model };
    this.trainings.push({ at: this.now, rows: rows.length, positives, version: this.modelVersion });
  }

  /** The send handler's sequence of questions, against the in-memory index (SendRecoveryStepHandler). */
  private sendStep(rec: LabRecovery, due: Extract<RecoveryEvent, { type: 'recovery.step-due' }>): void {
    const step = due.step;
    const state = rec.state;
    if (state.status === 'ended') {
      if (state.endReason === 'purchased') this.outcome(rec, step, undefined, { kind: 'stopped', reason: 'purchased' });
      else if (state.endReason === 'opted-out')
        this.outcome(rec, step, undefined, { kind: 'skipped', reason: 'channel-opted-out' });
      return;
    }
    if (state.steps[step]?.status !== 'due') return;
    const sh = rec.shopper;
    const c = this.customer(sh);
    // The recovery's own settings: the fixed rules on the policy control arm (RFC 0021), as the send handler.
    const config = configForPolicyArm(this.policy.config, state.policyArm);
    const channels = (['sms', 'email'] as const).filter(
      (ch) => due.definition.channels.includes(ch) && state.cart?.reach[ch] === true && !state.revoked.includes(ch),
    );
    let plan: OraclePlan | 'skip' | undefined;
    if (this.policy.kind === 'oracle') {
      plan = rec.oraclePlans?.get(step) ?? this.oraclePlan(rec, due, channels);
      (rec.oraclePlans ??= new Map()).set(step, plan);
      if (plan === 'skip') {
        this.outcome(rec, step, undefined, { kind: 'skipped', reason: 'low-responsiveness' });
        return;
      }
    }
    if (state.sendTimeArm !== undefined && step >= 1 && state.sendTimes?.[step] === undefined && state.abandonedAt) {
      const channel = plan !== undefined && plan !== 'skip' ? plan.channel : channels[0];
      const input = {
        abandonedAt: state.abandonedAt,
        delayMs: due.definition.delayMs,
        now: iso(this.now),
        settings: config.sendTime,
        timeZone: sh.zone,
        timeZoneSource: 'address' as const,
        sendWindow: channel === undefined ? null : config.sendWindows[channel],
        customer: c.profile as EngagementProfile,
        shop: this.shopProfile as EngagementProfile,
      };
      let choice: SendTimeChoice;
      if (plan !== undefined && plan !== 'skip') {
        const base = chooseSendTime({ ...input, customer: { hours: [], weekdays: [], events: 0 } });
        choice = { ...base, chosenAt: iso(Math.max(plan.at, Date.parse(base.windowFrom))), reason: 'profile' };
      } else {
        choice = state.sendTimeArm === 'on' ? chooseSendTime(input) : controlArmChoice(input);
      }
      this.feed(rec, { type: 'RecordSendTime', at: iso(this.now), step, choice });
    }
    const facts = sendFactsFromState(rec.state, due);
    const engagement: EngagementHistory = {
      messages: c.messages
        .slice(-200)
        .reverse()
        .map((m) => ({
          recoveryId: m.recoveryId,
          step: m.step,
          channel: m.channel,
          sentAt: iso(m.sentAt),
          ...(m.openedAt !== undefined ? { openedAt: iso(m.openedAt) } : {}),
          ...(m.clickedAt !== undefined ? { clickedAt: iso(m.clickedAt) } : {}),
        })),
      ...(c.lastOrderAt !== undefined ? { lastOrderAt: iso(c.lastOrderAt) } : {}),
    };
    const lastDiscountRecoveryAt = c.lastDiscountRecoveryAt !== undefined ? iso(c.lastDiscountRecoveryAt) : undefined;
    // Discounts only where they pay (RFC 0017): at the first step that defines a discount, the
    // recovery's incentive level is chosen once and recorded before the checks read it. (Every
    // shopper abandons once, so no customer is a code farmer here; the cooldown is checked.)
    if (
      this.policy.kind !== 'oracle' &&
      due.definition.discountPercent > 0 &&
      rec.state.incentive === undefined &&
      rec.state.cart !== undefined &&
      discountBlocked(
        { ...(lastDiscountRecoveryAt !== undefined ? { lastDiscountRecoveryAt } : {}), now: iso(this.now) },
        config,
      ) === undefined
    ) {
      this.chooseIncentive(rec, step, due.definition.discountPercent);
    }
    const others = c.messages.filter((m) => m.recoveryId !== rec.id);
    const status = (ch: LabChannel) =>
      c.unsubscribed.has(ch) ? 'unsubscribed' : sh.consent[ch] ? 'subscribed' : 'not-subscribed';
    let ctx: SendCheckContext = {
      ...facts,
      ...(c.lastOrderAt !== undefined ? { customerLastOrderAt: iso(c.lastOrderAt) } : {}),
      ...(others.length > 0 ? { lastOtherRecoveryMessageAt: iso(Math.max(...others.map((m) => m.sentAt))) } : {}),
      ...(c.activeRecovery !== undefined && c.activeRecovery.id !== rec.id
        ? { otherActiveRecovery: { recoveryId: c.activeRecovery.id, startedAt: c.activeRecovery.startedAt } }
        : {}),
      ignoredRecoveryMessages: ignoredOtherRecoveryMessages(engagement, rec.id, config.fatigue.machineOpenWithinMs),
      engagement,
      ...(lastDiscountRecoveryAt !== undefined ? { lastDiscountRecoveryAt } : {}),
      ...(rec.state.incentive !== undefined ? { incentive: rec.state.incentive } : {}),
      consent: {
        email: { status: status('email'), source: 'lab:checkout' },
        sms: { status: status('sms'), source: 'lab:checkout' },
      },
      now: iso(this.now),
      stock: [],
      unavailableChannels: ['push'],
      learned: this.evidence(rec.responseSegment ?? 'unsegmented'),
      // One uniform per check (the send handler's channelRandom): the channel choice's Thompson sampling.
      channelDraw: uniform(this.options.seed, sh.index, step, Draw.Channel),
    };
    if (plan !== undefined && plan !== 'skip') {
      ctx = { ...ctx, step: { ...ctx.step, channels: [plan.channel], discountPercent: plan.percent } };
    }
    const result = checkBeforeSend(ctx, config);
    const noSend = outcomeFromCheck(result);
    if (noSend !== undefined || result.decision !== 'send') {
      const channel = result.decision === 'defer' ? result.channel : undefined;
      this.outcome(rec, step, channel, noSend ?? { kind: 'skipped', reason: 'no-consent' });
      return;
    }
    const code = result.discount !== undefined ? `LAB-${sh.index}-${step}` : undefined;
    this.outcome(rec, step, result.channel, sentOutcome(result, `${rec.id}:${step}:${result.channel}`, code));
  }

  /** `chooseIncentive` as the send handler calls it: the fixed ladder, or the learned policy on the segment's evidence. */
  private chooseIncentive(rec: LabRecovery, step: number, stepPercent: number): void {
    const state = rec.state;
    if (state.cart === undefined) return;
    const settings = configForPolicyArm(this.policy.config, state.policyArm).incentives;
    const segment = responseSegmentOf(state.segments);
    const choice = chooseIncentive({
      ladder: (state.sequence?.steps ?? []).map((s) => s.discountPercent),
      stepPercent,
      cartValue: state.cart.value,
      segment,
      settings,
      ...(settings.policy === 'learned'
        ? {
            evidence: this.incentiveEvidence(segment),
            draw: uniform(this.options.seed, rec.shopper.index, step, Draw.Incentive),
          }
        : {}),
    });
    this.feed(rec, { type: 'ChooseIncentive', at: iso(this.now), step, choice });
  }

  private incentiveSegment(segment: string): IncentiveSegment {
    let x = this.incentiveRows.get(segment);
    if (x === undefined) this.incentiveRows.set(segment, (x = { rows: [], head: 0, tallies: new Map() }));
    return x;
  }

  /** A row's outcome became final: counted in its level's tally. */
  private settle(row: IncentiveRow, recovered: boolean): void {
    row.final = true;
    const tallies = this.incentiveSegment(row.segment).tallies;
    const t = tallies.get(row.percent) ?? { assigned: 0, recovered: 0 };
    t.assigned++;
    if (recovered) t.recovered++;
    tallies.set(row.percent, t);
  }

  /**
   * `incentiveEvidence` of facts.ts on the in-memory rows: per level, the segment's rows whose
   * outcome is final — ended (recovered when it ended `purchased` within the attribution window of
   * the choice), or not ended with the window closed (`decided_at + window < now`: not recovered).
   * Recoveries that play the ladder (`fixed`, `ladder`) are evidence of no single level: no rows.
   * Rows are appended in decision order, so the closed windows are swept from the front.
   */
  private incentiveEvidence(segment: string): IncentiveEvidence {
    const x = this.incentiveSegment(segment);
    const window = this.policy.config.attributionWindowMs;
    while (x.head < x.rows.length && x.rows[x.head].decidedAt + window < this.now) {
      const row = x.rows[x.head++];
      if (!row.final) this.settle(row, false);
    }
    const levels = [...x.tallies]
      .filter(([, t]) => t.assigned > 0)
      .sort(([a], [b]) => a - b)
      .map(([percent, t]) => ({ percent, assigned: t.assigned, recovered: t.recovered }));
    return { segment, levels };
  }

  private outcome(rec: LabRecovery, step: number, channel: Channel | undefined, outcome: StepOutcomeResult): void {
    this.feed(rec, {
      type: 'StepOutcome',
      step,
      ...(channel !== undefined ? { channel } : {}),
      at: iso(this.now),
      outcome,
    });
  }

  private evidence(segment: string): ChannelEvidence {
    const byChannel: Partial<Record<Channel, { sent: number; engaged: number }>> = {};
    for (const ch of ['email', 'sms'] as const) {
      const t = this.tallies.get(`${ch}|${segment}`);
      if (t !== undefined) byChannel[ch] = { sent: t.sent, engaged: t.engaged };
    }
    return { segment, shop: { sent: this.shopTally.sent, engaged: this.shopTally.engaged }, byChannel };
  }

  private engage(m: LabMessage): void {
    if (m.engaged) return;
    m.engaged = true;
    this.shopTally.engaged++;
    const t = this.tallies.get(`${m.channel}|${m.responseSegment}`);
    if (t !== undefined) t.engaged++;
  }

  // ---- the providers and the shopper -----------------------------------------------------------

  private sent(
    rec: LabRecovery,
    step: number,
    channel: Channel,
    discountCode: string | undefined,
    percent: number,
    withheld: string | undefined,
  ): void {
    const sh = rec.shopper;
    const m: LabMessage = {
      recoveryId: rec.id,
      step,
      channel,
      sentAt: this.now,
      percent,
      ...(discountCode !== undefined ? { discountCode } : {}),
      ...(withheld !== undefined ? { withheld } : {}),
      responseSegment: rec.responseSegment ?? 'unsegmented',
      engaged: false,
    };
    rec.messages.push(m);
    this.customer(sh).messages.push(m);
    const key = `${channel}|${m.responseSegment}`;
    const tally = this.tallies.get(key) ?? { sent: 0, engaged: 0 };
    tally.sent++;
    this.tallies.set(key, tally);
    this.shopTally.sent++;
    if (channel === 'push') return;
    this.messagesByChannel[channel]++;
    this.react(rec, m, channel);
  }

  /** The shopper's true reaction to a message (./shoppers.ts draws, shared by every policy per step). */
  private react(rec: LabRecovery, m: LabMessage, channel: LabChannel): void {
    const sh = rec.shopper;
    const truth = this.truthOf(sh);
    const seed = this.options.seed;
    const k = m.step;
    const earlier = truth.received++;
    if (m.percent > truth.codePercent) truth.codePercent = m.percent;
    const pClick = clickProbability(this.model, sh, channel, m.sentAt, earlier);
    const clicked = uniform(seed, sh.index, k, Draw.Click) < pClick;
    const opened =
      channel === 'email' &&
      (clicked || uniform(seed, sh.index, k, Draw.Open) < openProbability(this.model, sh, m.sentAt, earlier, pClick));
    const delay = uniform(seed, sh.index, k, Draw.Delay);
    const openAt = m.sentAt + 2 * MINUTE + delay * 2 * HOUR;
    const clickAt = channel === 'email' ? openAt + MINUTE + delay * 10 * MINUTE : m.sentAt + MINUTE + delay * HOUR;
    if (opened) {
      this.agenda.push(openAt, () => {
        m.openedAt = this.now;
        this.countEngagement(this.customer(sh), sh.zone, this.now);
        if (this.now > m.sentAt + this.policy.config.fatigue.machineOpenWithinMs) this.engage(m);
        this.feed(rec, {
          type: 'MessageEngagement',
          kind: 'opened',
          step: m.step,
          channel,
          at: iso(this.now),
        } as RecoveryInput);
      });
    }
    if (clicked) {
      this.agenda.push(clickAt, () => {
        m.clickedAt = this.now;
        this.countEngagement(this.customer(sh), sh.zone, this.now);
        this.engage(m);
        this.feed(rec, {
          type: 'MessageEngagement',
          kind: 'clicked',
          step: m.step,
          channel,
          at: iso(this.now),
        } as RecoveryInput);
      });
      const organicPending = sh.organicAt !== undefined && truth.bought === undefined;
      const buys = organicPending || uniform(seed, sh.index, k, Draw.Buy) < buyProbability(sh, channel, m.percent);
      if (buys) this.agenda.push(clickAt + 10 * MINUTE, () => this.purchase(sh, truth, rec, m.percent, m.discountCode));
    }
    if (uniform(seed, sh.index, k, Draw.Unsubscribe) < unsubscribeProbability(sh, channel, earlier)) {
      this.agenda.push(m.sentAt + 30 * MINUTE, () => {
        if (truth.unsubscribed.has(channel)) return;
        truth.unsubscribed.set(channel, this.now);
        this.customer(sh).unsubscribed.add(channel);
        this.feed(rec, { type: 'ConsentRevoked', channel, at: iso(this.now) });
      });
    }
  }

  private truthOf(sh: Shopper): ShopperTruth {
    const t = this.truths.get(sh.index);
    if (t === undefined) throw new Error(`no truth for shopper ${sh.index}`);
    return t;
  }

  private organicPurchase(sh: Shopper, truth: ShopperTruth, rec: LabRecovery | undefined): void {
    if (truth.bought !== undefined) return;
    const useCode =
      truth.codePercent > 0 &&
      uniform(this.options.seed, sh.index, 0, Draw.CodeUse) < sh.segment.discount.organicCodeUse;
    const percent = useCode ? truth.codePercent : 0;
    const code = useCode ? rec?.messages.find((m) => m.percent === percent)?.discountCode : undefined;
    this.purchase(sh, truth, rec, percent, code);
  }

  private purchase(
    sh: Shopper,
    truth: ShopperTruth,
    rec: LabRecovery | undefined,
    percent: number,
    code: string | undefined,
  ): void {
    if (truth.bought !== undefined) return;
    const orderTotal = Math.round(sh.value * (1 - percent / 100) * 100) / 100;
    const discount = Math.round((sh.value - orderTotal) * 100) / 100;
    truth.bought = { at: this.now, percent, orderTotal, discount };
    const c = this.customer(sh);
    c.lastOrderAt = this.now;
    this.countEngagement(c, sh.zone, this.now);
    const orderId = `order-${sh.index}`;
    this.options.log?.order({ orderId, shopper: sh, total: orderTotal, discount, code, at: this.now });
    if (rec === undefined) return;
    if (rec.state.status !== 'idle' && rec.state.status !== 'ended') rec.orderTotal = orderTotal;
    this.feed(rec, { type: 'CartPurchased', orderId, at: iso(this.now) });
    // Last-click attribution over the customer's messages (OrderAttribution).
    const clicked = c.messages
      .filter((m) => m.clickedAt !== undefined)
      .map((m) => ({
        messageId: `${m.recoveryId}:${m.step}:${m.channel}`,
        recoveryId: m.recoveryId,
        step: m.step,
        channel: m.channel,
        sentAt: iso(m.sentAt),
        clickedAt: iso(m.clickedAt as number),
        discountCode: m.discountCode,
        percent: m.percent,
      }));
    const found = attributeOrder(clicked, { orderId, placedAt: iso(this.now) }, this.policy.config.attributionWindowMs);
    if (found === undefined) return;
    const message = clicked.find((m) => m.messageId === found.messageId);
    const used = message?.discountCode !== undefined && message.discountCode === code;
    this.feed(rec, {
      type: 'OrderAttributed',
      orderId,
      step: found.step,
      channel: found.channel,
      messageId: found.messageId,
      clickedAt: found.clickedAt,
      placedAt: iso(this.now),
      revenue: orderTotal.toFixed(2),
      currency: this.model.population.currency,
      ...(message?.discountCode !== undefined ? { discountCode: message.discountCode } : {}),
      discountUsed: used,
      at: iso(this.now),
    });
    rec.discountUsed = (rec.discountUsed ?? false) || used;
    // read.attribution's discount cost: the order's own discount when the message's code was used.
    if (used) rec.attributedDiscountCost += discount;
  }

  // ---- the step variants' experiments (RFC 0016; libs/application/src/recovery/experiments.ts) ----

  /** Whether the start context carries experiments: the switch is on and the catalogue has a step with variants. */
  private runsExperiments(): boolean {
    return (
      experimentSettingsOf(this.policy.config).enabled &&
      this.policy.catalogue.sequences.some((q) => q.steps.some((st) => (st.variants ?? []).length > 0))
    );
  }

  private experiment(id: string): LabExperiment {
    let x = this.experiments.get(id);
    if (x === undefined) {
      x = { rows: [], head: 0, rewards: new Map(), seen: new Map(), state: initialExperimentState(), history: [] };
      this.experiments.set(id, x);
    }
    return x;
  }

  private reward(x: LabExperiment, variantId: string) {
    let r = x.rewards.get(variantId);
    if (r === undefined) {
      r = { settled: 0, recovered: 0, netRevenue: 0, netRevenueSquares: 0, assignments: 0 };
      x.rewards.set(variantId, r);
    }
    return r;
  }

  /**
   * A row's reward became known: recovered → the order's revenue (what the shopper paid: the
   * attributed orders' revenue, else the order's total — the same figure here), else 0.
   */
  private settleVariant(row: VariantRow, recovered: boolean): void {
    row.settled = true;
    const r = this.reward(this.experiment(row.experimentId), row.variantId);
    r.settled++;
    if (!recovered) return;
    const revenue = row.rec.orderTotal ?? 0;
    r.recovered++;
    r.netRevenue += revenue;
    r.netRevenueSquares += revenue * revenue;
  }

  /** Rows whose attribution window closed without an end are settled, not recovered (`now > decided_at + window`). */
  private sweep(x: LabExperiment): void {
    const window = this.policy.config.attributionWindowMs;
    while (x.head < x.rows.length && x.rows[x.head].decidedAt + window < this.now) {
      const row = x.rows[x.head++];
      if (!row.settled) this.settleVariant(row, false);
    }
  }

  /**
   * `experimentEvidence` at this instant, per variant ordered by id: assignments, the settled reward
   * part, the discount cost of the recovered (the order's discount estimated from the highest percent
   * the recovery sent, when a code was used), and the guardrail part — messages of the variant's step
   * and unsubscribes after them (complaints: none, the lab's providers report no spam filtering).
   */
  private variantEvidence(x: LabExperiment): VariantEvidence[] {
    this.sweep(x);
    const extra = new Map<string, { discountCost: number; messages: number; unsubscribes: number }>();
    const window = this.policy.config.attributionWindowMs;
    for (const row of x.rows) {
      const e = extra.get(row.variantId) ?? { discountCost: 0, messages: 0, unsubscribes: 0 };
      extra.set(row.variantId, e);
      const rec = row.rec;
      if (row.sentAt !== undefined) {
        e.messages++;
        if (rec.unsubscribedAt !== undefined && rec.unsubscribedAt >= row.sentAt) e.unsubscribes++;
      }
      const recovered =
        row.settled &&
        rec.state.endReason === 'purchased' &&
        rec.endedAt !== undefined &&
        rec.endedAt <= row.decidedAt + window;
      if (!recovered) continue;
      const used = rec.discountUsed ?? (this.truthOf(rec.shopper).bought?.percent ?? 0) > 0;
      const percent = Math.max(0, ...rec.messages.map((m) => m.percent));
      if (used && percent > 0 && percent < 100) {
        e.discountCost += Math.round((((rec.orderTotal ?? 0) * percent) / (100 - percent)) * 100) / 100;
      }
    }
    return [...x.rewards]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([variantId, r]) => ({
        variantId,
        assignments: r.assignments,
        settled: r.settled,
        recovered: r.recovered,
        netRevenue: r.netRevenue,
        netRevenueSquares: r.netRevenueSquares,
        discountCost: extra.get(variantId)?.discountCost ?? 0,
        messages: extra.get(variantId)?.messages ?? 0,
        unsubscribes: extra.get(variantId)?.unsubscribes ?? 0,
        complaints: 0,
      }));
  }

  /** `ExperimentSource.forShop`: every experiment with assignments, its stream's state and settled evidence. */
  private experimentSnapshots(): Record<string, ExperimentSnapshot> {
    const out: Record<string, ExperimentSnapshot> = {};
    for (const [id, x] of this.experiments) {
      this.sweep(x);
      const arms = [...x.rewards]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([variantId, r]) => ({
          variantId,
          assignments: r.assignments,
          settled: r.settled,
          recovered: r.recovered,
          netRevenue: r.netRevenue,
          netRevenueSquares: r.netRevenueSquares,
          discountCost: 0,
          messages: 0,
          unsubscribes: 0,
          complaints: 0,
        }));
      out[id] = experimentSnapshot(x.state, arms);
    }
    return out;
  }

  /**
   * `ExperimentEvaluator.evaluateShop`: per experiment not closed, `EvaluateExperiment` on its
   * stream with the catalogue's variants and the evidence now (guardrails, posteriors, adoption).
   */
  private evaluateExperiments(): void {
    const settings = experimentSettingsOf(this.policy.config);
    const evaluation = this.evaluations++;
    let k = 0;
    for (const [experimentId, x] of this.experiments) {
      k++;
      const id = parseExperimentId(experimentId);
      if (id === undefined || x.state.status === 'closed') continue;
      const defined = this.policy.catalogue.sequences.find(
        (q) => q.id === id.sequenceId && q.version === id.sequenceVersion,
      )?.steps[id.step]?.variants;
      const variants = defined ?? [...x.seen.values()];
      if (x.state.status === 'none' && variants.length < 2) continue;
      const events = experimentDecider.decide(
        {
          type: 'EvaluateExperiment',
          shopId: this.shopId,
          experimentId,
          definition: { ...id, variants },
          evidence: this.variantEvidence(x),
          settings,
          seed: Math.floor(uniform(this.options.seed, evaluation, k, Draw.Evaluation) * 2 ** 31),
          at: iso(this.now),
        },
        x.state,
      );
      for (const e of events) {
        x.state = experimentDecider.evolve(x.state, e);
        if (e.type === 'experiment.evaluated') continue;
        const variantId = (e.data as { variantId?: string }).variantId;
        x.history.push({ type: e.type, at: this.now, ...(variantId !== undefined ? { variantId } : {}) });
      }
    }
  }

  // ---- the oracle ---------------------------------------------------------------------------

  /**
   * The oracle's plan for a step: the channel, discount level and send time with the highest
   * expected incremental net revenue under the true parameters (not the shopper's hidden draws),
   * or skip when none is positive. Myopic: each step as if it were the last.
   */
  private oraclePlan(
    rec: LabRecovery,
    due: Extract<RecoveryEvent, { type: 'recovery.step-due' }>,
    channels: readonly ('sms' | 'email')[],
  ): OraclePlan | 'skip' {
    const sh = rec.shopper;
    const config = this.policy.config;
    const c = this.customer(sh);
    const permitted = channels.filter((ch) => sh.consent[ch] && !c.unsubscribed.has(ch));
    if (permitted.length === 0 || rec.abandonedAt === undefined) return 'skip';
    const abandonedAt = rec.abandonedAt;
    let times = [this.now];
    if (due.step >= 1 && rec.state.sendTimeArm !== undefined) {
      const w = sendTimeWindow(iso(abandonedAt), due.definition.delayMs, config.sendTime, iso(this.now));
      times = [];
      for (let t = Math.ceil(w.from / HOUR) * HOUR; t <= w.to; t += HOUR) times.push(t);
      times.push(Math.min(w.to, Math.max(w.from, w.nominal)));
    }
    const p = sh.segment.organic.probability;
    const earlier = rec.messages.length;
    const levels = this.policy.discountLevels ?? [0];
    let best: OraclePlan | undefined;
    let bestValue = 0;
    for (const ch of permitted) {
      const window = config.sendWindows[ch];
      for (const t of times) {
        if (window !== null && !isInsideWindow(t, sh.zone, window)) continue;
        const s = organicSurvival(this.model, sh, abandonedAt, t);
        const q = (p * s) / (p * s + (1 - p));
        const click = clickProbability(this.model, sh, ch, t, earlier);
        for (const percent of levels) {
          const net = sh.value * (1 - (2 * percent) / 100);
          const gain = (1 - q) * click * buyProbability(sh, ch, percent) * net;
          const use = percent > 0 ? click + (1 - click) * sh.segment.discount.organicCodeUse : 0;
          const loss = q * use * (sh.value - net);
          const value = gain - loss - config.channelChoice.costs[ch];
          if (value > bestValue + 1e-9) {
            bestValue = value;
            best = { channel: ch, percent, at: t };
          }
        }
      }
    }
    return best ?? 'skip';
  }
}

export { localHour };
