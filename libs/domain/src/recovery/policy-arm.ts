/**
 * The policy control arm (RFC 0021): a share of a shop's live recoveries, drawn once at the start
 * like the holdout, runs under the **fixed rules** as a whole — no routing by score, no variant
 * experiments, the discount ladder, send-time optimisation off, the fixed channel rule, the fatigue
 * counter — while the rest run under the shop's own (learning) settings. Recorded on
 * `recovery.policy-arm-assigned` with its propensity, so that:
 *
 * - the learning policy's gain over the fixed rules is measured directly on one log (rules arm vs
 *   shop-policy arm, the holdout beside both), and
 * - a backtest of the fixed rules on a learning log has support: the rules arm plays their actions
 *   with a known probability (without it the learning log almost never does — routing has no
 *   exploration, an adopted variant never draws its control).
 *
 * The arm is drawn only when it means something: a share above 0, a recovery that is not in the
 * holdout, and shop settings that differ from the fixed rules (for a shop running the rules, both
 * arms would be the same policy).
 */
import type { PolicyControlSettings, RecoveryConfig } from './config';
import { DEFAULT_EXPERIMENT_SETTINGS } from './experiment-settings';

export const POLICY_ARMS = ['fixed-rules', 'shop-policy'] as const;
export type PolicyArm = (typeof POLICY_ARMS)[number];

export type { PolicyControlSettings };

export const DEFAULT_POLICY_CONTROL: PolicyControlSettings = { percent: 0 };

/** The policy control settings of a configuration (the default, off, where it has none). */
export function policyControlOf(config: Pick<RecoveryConfig, 'policyControl'>): PolicyControlSettings {
  return config.policyControl ?? DEFAULT_POLICY_CONTROL;
}

/** The settings the fixed rules switch off (and the control share, which they do not run). */
export type LearningSwitches = Pick<
  RecoveryConfig,
  'routing' | 'experiments' | 'incentives' | 'sendTime' | 'channelChoice' | 'engagementScore' | 'policyControl'
>;

/**
 * The fixed rules on the shop's own catalogue and checks: every learning decision switched off.
 * Consent, caps, quiet hours, stock, price and every other check stay the shop's.
 */
export function fixedRulesConfig<C extends LearningSwitches>(config: C): C {
  return {
    ...config,
    routing: { ...config.routing, enabled: false },
    experiments: { ...DEFAULT_EXPERIMENT_SETTINGS, ...config.experiments, enabled: false },
    incentives: { ...config.incentives, policy: 'fixed' },
    sendTime: { ...config.sendTime, enabled: false },
    channelChoice: { ...config.channelChoice, enabled: false },
    engagementScore: { ...config.engagementScore, enabled: false },
    policyControl: { percent: 0 },
  };
}

/**
 * Whether the settings already are the fixed rules as far as a recovery's decisions go (no
 * routing, no experiments, the ladder, send-time, channel choice and engagement score off).
 */
export function runsFixedRules(config: LearningSwitches): boolean {
  return (
    !config.routing.enabled &&
    !(config.experiments ?? DEFAULT_EXPERIMENT_SETTINGS).enabled &&
    config.incentives.policy === 'fixed' &&
    !config.sendTime.enabled &&
    !config.channelChoice.enabled &&
    !config.engagementScore.enabled
  );
}

/** The configuration a recovery's decisions run under: the fixed rules on the rules arm, else the shop's. */
export function configForPolicyArm(config: RecoveryConfig, arm: PolicyArm | undefined): RecoveryConfig {
  return arm === 'fixed-rules' ? fixedRulesConfig(config) : config;
}

/**
 * A policy's share of the rules arm: all of it for settings that are the fixed rules, else the
 * control share it draws (0 without one). What a backtest gives a candidate's rules arm.
 */
export function fixedRulesShare(config: LearningSwitches): number {
  return runsFixedRules(config) ? 1 : policyArmProbabilities(policyControlOf(config).percent)['fixed-rules'];
}

/** The probability of each arm at a share (0–100) of the rules arm. */
export function policyArmProbabilities(percent: number): { readonly [A in PolicyArm]: number } {
  const p = Math.min(1, Math.max(0, percent / 100));
  return { 'fixed-rules': p, 'shop-policy': 1 - p };
}

export interface PolicyArmDraw {
  readonly arm: PolicyArm;
  /** The probability of the arm drawn. */
  readonly propensity: number;
  readonly draw: number;
  readonly controlPercent: number;
}

/** Whether a recovery starting under these settings draws a policy arm at all. */
export function drawsPolicyArm(config: LearningSwitches): boolean {
  return policyControlOf(config).percent > 0 && !runsFixedRules(config);
}

/** The arm from one uniform draw in [0, 1): the rules arm when `draw < percent / 100`. */
export function drawPolicyArm(percent: number, draw: number): PolicyArmDraw {
  const arm: PolicyArm = draw < percent / 100 ? 'fixed-rules' : 'shop-policy';
  return { arm, propensity: policyArmProbabilities(percent)[arm], draw, controlPercent: percent };
}
