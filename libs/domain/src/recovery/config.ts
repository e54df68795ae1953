import type { AlternativeRules } from './alternatives';
import { parseDuration, parseDurationList } from '../shared/duration';
import { DAY, HOUR, MINUTE } from './time';
import type { ChannelChoiceSettings } from './channel-choice';
import type { EngagementScoreSettings } from './engagement-score';
import type { FatigueSettings } from './fatigue';
import type { RoutingSettings } from './routing';
import { DEFAULT_INCENTIVE_SETTINGS, type IncentiveSettings } from './incentives';
import type { LocalWindow } from './quiet-hours';
import type { SendTimeSettings } from './send-time';
import type { SupportTicketMatch } from './support-tickets';
import type { DecimalString } from './types';
import { DEFAULT_EXPERIMENT_SETTINGS, type ExperimentSettings } from './experiment-settings';

/** Defined beside the code that reads it (quiet hours); re-exported here with the rest of the settings. */
export type { LocalWindow } from './quiet-hours';

/** The policy control arm's settings (RFC 0021; read by ./policy-arm.ts). */
export interface PolicyControlSettings {
  /** 0–100: share of the non-holdout recoveries that run under the fixed rules (POLICY_CONTROL_PERCENT). */
  readonly percent: number;
}

export type EmailConsentPolicy = 'subscribers-only' | 'unless-opted-out';

export interface SegmentThresholds {
  /** Cart value (shop currency) from which a cart is `high-value-cart`. */
  readonly highValueCart: DecimalString;
  /** Orders from which a customer is VIP (or `vipMinTotalSpent`). */
  readonly vipMinOrders: number;
  readonly vipMinTotalSpent: DecimalString;
}

export interface RecoveryConfig {
  /** ABANDON_AFTER: inactivity after which a reachable, unpaid cart is abandoned. */
  readonly abandonAfterMs: number;
  /** FOLLOW_UP_DELAYS: delays of steps 1.. counted from abandonment (step 0 is at abandonment). */
  readonly followUpDelaysMs: readonly number[];
  /** Default discount percent per step (step 0 first), for every default sequence. */
  readonly discountPercents: readonly number[];
  /** HIGH_VALUE_THRESHOLD: cart value selecting the premium sequence. */
  readonly highValueThreshold: DecimalString;
  /** TICKET_THRESHOLD: cart value from which one support ticket is requested. */
  readonly ticketThreshold: DecimalString;
  /**
   * While a ticket the customer opened about this cart is open: `false` sends the help copy,
   * `true` pauses the recovery until it closes. The appliance's own ticket never counts.
   */
  readonly pauseWhileTicketOpen: boolean;
  /** SUPPORT_TICKET_MATCH: which open tickets of the customer count (`mentions` the cart, or `any`). */
  readonly supportTicketMatch: SupportTicketMatch;
  /** HOLDOUT_PERCENT: share of recoveries (0-100) that receive nothing, for measurement. */
  readonly holdoutPercent: number;
  /** Share (0-100) of non-holdout recoveries that send live; the rest run in shadow. */
  readonly rolloutPercent: number;
  /** Shadow mode: every decision recorded, nothing sent. */
  readonly shadowMode: boolean;
  /** PURCHASE_GRACE: window for late order webhooks. */
  readonly purchaseGraceMs: number;
  /** Nothing from another recovery within this time of the customer's last recovery message. */
  readonly frequencyCapMs: number;
  /** Engagement fatigue: how ignored messages are counted and when later steps are skipped. */
  readonly fatigue: FatigueSettings;
  /**
   * Engagement score (RFC 0013): the customer's responsiveness estimate; when it has enough evidence
   * it decides instead of the fatigue counter (which stays the fallback, and shares its window,
   * own-steps and machine-open settings).
   */
  readonly engagementScore: EngagementScoreSettings;
  /** Channel choice by expected value per segment × channel, minus the shop's cost per channel. */
  readonly channelChoice: ChannelChoiceSettings;
  readonly emailConsentPolicy: EmailConsentPolicy;
  /** Allowed local send windows per channel; `null` = any time. */
  readonly sendWindows: { readonly email: LocalWindow | null; readonly sms: LocalWindow | null };
  /** How long a discount code stays valid. */
  readonly discountValidityMs: number;
  /** No discount to a customer recovered with a discount within this window (anti-gaming). */
  readonly discountCooldownMs: number;
  /** Attempts per (step, channel) before dead-lettering, reconciliations counted separately. */
  readonly retryBudget: number;
  readonly retryBaseDelayMs: number;
  readonly retryMaxDelayMs: number;
  /** ATTRIBUTION_WINDOW: an order within this time of a click is attributed to the message. */
  readonly attributionWindowMs: number;
  /** After the last step, the recovery stays open (purchases still end it) for this long. */
  readonly completeAfterLastStepMs: number;
  readonly segments: SegmentThresholds;
  /** Send-time optimisation per customer with its randomised on/off arm (RFC 0012). */
  readonly sendTime: SendTimeSettings;
  /** Which of the store's suggestions may replace a sold-out line (default: at most 20% dearer per unit). */
  readonly alternatives?: AlternativeRules;
  /**
   * Routing by score (./routing.ts): the bands (probability thresholds, high cart value) and the
   * sequence each routed band chooses. Acts only on a recovery scored by a live model.
   */
  readonly routing: RoutingSettings;
  /** Step variants and their experiments (RFC 0016); {@link DEFAULT_EXPERIMENT_SETTINGS} when absent. */
  readonly experiments?: ExperimentSettings;
  /** Discount policy (fixed ladder or learned incremental profit), margin, exploration, code farmers (RFC 0017). */
  readonly incentives: IncentiveSettings;
  /**
   * The policy control arm (RFC 0021): the share of live recoveries run under the fixed rules as a
   * whole, so the learning settings' gain is measured on one log and the rules stay backtestable.
   * Absent: off ({@link policyControlOf}).
   */
  readonly policyControl?: PolicyControlSettings;
}

/** The experiments' settings of a configuration (the defaults where it has none). */
export function experimentSettingsOf(config: RecoveryConfig): ExperimentSettings {
  return config.experiments ?? DEFAULT_EXPERIMENT_SETTINGS;
}

/**
 * The appliance-wide defaults an operator can change, as the operator writes them (durations like
 * `6h,24h,72h`, decimal amounts, percentages): the one source of {@link defaultRecoveryConfig} and
 * of the appliance configuration's defaults (ABANDON_AFTER, FOLLOW_UP_DELAYS, …), hence of the
 * README, `.env.example` and compose.yaml generated from it.
 */
export const RECOVERY_SETTING_DEFAULTS = {
  abandonAfter: '1h',
  followUpDelays: '6h,24h,72h',
  highValueThreshold: '200',
  ticketThreshold: '200',
  holdoutPercent: 10,
  rolloutPercent: 100,
  attributionWindow: '5d',
  purchaseGrace: '10m',
  discountExpiry: '7d',
  discountCooldown: '30d',
  frequencyCap: '16h',
  emailConsentPolicy: 'subscribers-only',
  sendTimeOptimisation: 'off',
  sendTimeArmPercent: 50,
  sendTimeWindow: '4h',
  sendTimeMinDelay: '1h',
  sendTimePriorStrength: 8,
  /** Cost of one message per channel (shop currency), the channel choice's default (RFC 0013). */
  channelCostEmail: '0.001',
  channelCostSms: '0.05',
  channelCostPush: '0',
  /** Routing by score (issue 14 item 3): on, but it acts only once the shop has a live model. */
  routingByScore: 'on',
  routingHighProbability: 0.6,
  routingLowProbability: 0.2,
  /** Policy control arm (RFC 0021): share of live recoveries run under the fixed rules; 0 = off. */
  policyControlPercent: 0,
} as const satisfies Record<string, string | number>;

const defaults = RECOVERY_SETTING_DEFAULTS;

export const defaultRecoveryConfig: RecoveryConfig = {
  abandonAfterMs: parseDuration(defaults.abandonAfter),
  followUpDelaysMs: parseDurationList(defaults.followUpDelays),
  discountPercents: [0, 5, 10, 15],
  highValueThreshold: defaults.highValueThreshold,
  ticketThreshold: defaults.ticketThreshold,
  pauseWhileTicketOpen: false,
  supportTicketMatch: 'mentions',
  holdoutPercent: defaults.holdoutPercent,
  rolloutPercent: defaults.rolloutPercent,
  shadowMode: false,
  purchaseGraceMs: parseDuration(defaults.purchaseGrace),
  frequencyCapMs: parseDuration(defaults.frequencyCap),
  fatigue: {
    enabled: true,
    threshold: 3,
    windowMs: 30 * DAY,
    maxSteps: 2,
    countOwnSteps: false,
    machineOpenWithinMs: 60_000,
  },
  engagementScore: { enabled: true, priorStrength: 4, minMessages: 4, unresponsiveBelow: 0.12, engagedFrom: 0.5 },
  channelChoice: {
    enabled: true,
    costs: {
      email: Number(defaults.channelCostEmail),
      sms: Number(defaults.channelCostSms),
      push: Number(defaults.channelCostPush),
    },
    priorStrength: 10,
    minMessages: 20,
  },
  emailConsentPolicy: defaults.emailConsentPolicy,
  sendWindows: { email: null, sms: { fromMinute: 8 * 60, toMinute: 21 * 60 } },
  discountValidityMs: parseDuration(defaults.discountExpiry),
  discountCooldownMs: parseDuration(defaults.discountCooldown),
  retryBudget: 5,
  retryBaseDelayMs: MINUTE,
  retryMaxDelayMs: 6 * HOUR,
  attributionWindowMs: parseDuration(defaults.attributionWindow),
  completeAfterLastStepMs: 5 * DAY,
  segments: { highValueCart: defaults.highValueThreshold, vipMinOrders: 5, vipMinTotalSpent: '1000' },
  sendTime: {
    enabled: (defaults.sendTimeOptimisation as string) === 'on',
    armPercent: defaults.sendTimeArmPercent,
    windowMs: parseDuration(defaults.sendTimeWindow),
    minDelayMs: parseDuration(defaults.sendTimeMinDelay),
    priorStrength: defaults.sendTimePriorStrength,
  },
  routing: {
    enabled: (defaults.routingByScore as string) === 'on',
    highProbability: defaults.routingHighProbability,
    lowProbability: defaults.routingLowProbability,
    // The value line of personal attention is the ticket's (TICKET_THRESHOLD) unless set.
    highValue: defaults.ticketThreshold,
    sequences: { personal: 'short', short: 'short', nurture: 'nurture' },
  },
  incentives: DEFAULT_INCENTIVE_SETTINGS,
  policyControl: { percent: defaults.policyControlPercent },
};

export type RecoveryConfigOverrides = Partial<
  Omit<
    RecoveryConfig,
    | 'segments'
    | 'sendWindows'
    | 'fatigue'
    | 'sendTime'
    | 'engagementScore'
    | 'channelChoice'
    | 'routing'
    | 'experiments'
    | 'incentives'
    | 'policyControl'
  >
> & {
  readonly policyControl?: Partial<PolicyControlSettings>;
  readonly incentives?: Partial<Omit<IncentiveSettings, 'codeFarming'>> & {
    readonly codeFarming?: Partial<IncentiveSettings['codeFarming']>;
  };
  readonly routing?: Partial<Omit<RoutingSettings, 'sequences'>> & {
    readonly sequences?: Partial<RoutingSettings['sequences']>;
  };
  readonly experiments?: Partial<ExperimentSettings>;
  readonly segments?: Partial<SegmentThresholds>;
  readonly sendTime?: Partial<SendTimeSettings>;
  readonly fatigue?: Partial<FatigueSettings>;
  readonly engagementScore?: Partial<EngagementScoreSettings>;
  readonly channelChoice?: Partial<Omit<ChannelChoiceSettings, 'costs'>> & {
    readonly costs?: Partial<ChannelChoiceSettings['costs']>;
  };
  readonly sendWindows?: Partial<RecoveryConfig['sendWindows']>;
};

/** Defaults with overrides applied; the high-value segment follows HIGH_VALUE_THRESHOLD unless set. */
export function recoveryConfig(overrides: RecoveryConfigOverrides = {}): RecoveryConfig {
  const base = defaultRecoveryConfig;
  const highValueThreshold = overrides.highValueThreshold ?? base.highValueThreshold;
  const ticketThreshold = overrides.ticketThreshold ?? base.ticketThreshold;
  return {
    ...base,
    ...overrides,
    highValueThreshold,
    sendWindows: { ...base.sendWindows, ...overrides.sendWindows },
    fatigue: { ...base.fatigue, ...overrides.fatigue },
    sendTime: { ...base.sendTime, ...overrides.sendTime },
    experiments: { ...DEFAULT_EXPERIMENT_SETTINGS, ...base.experiments, ...overrides.experiments },
    engagementScore: { ...base.engagementScore, ...overrides.engagementScore },
    channelChoice: {
      ...base.channelChoice,
      ...overrides.channelChoice,
      costs: { ...base.channelChoice.costs, ...overrides.channelChoice?.costs },
    },
    segments: { ...base.segments, highValueCart: highValueThreshold, ...overrides.segments },
    incentives: {
      ...base.incentives,
      ...overrides.incentives,
      codeFarming: { ...base.incentives.codeFarming, ...overrides.incentives?.codeFarming },
    },
    policyControl: { percent: 0, ...base.policyControl, ...overrides.policyControl },
    routing: {
      ...base.routing,
      highValue: ticketThreshold,
      ...overrides.routing,
      sequences: { ...base.routing.sequences, ...overrides.routing?.sequences },
    },
  };
}
