/** The settings of the experiments of step variants (RFC 0016); a leaf module (config imports it). */
export interface ExperimentSettings {
  /** The learning switch: off, variants are ignored and every step runs as defined. */
  readonly enabled: boolean;
  /** Posterior probability of being best at which a variant is adopted (0.5-1). */
  readonly adoptThreshold: number;
  /** Settled assignments every live variant needs before anything is adopted. */
  readonly minSamplesPerVariant: number;
  /** A variant is stopped when its unsubscribe rate is above this with `guardrailConfidence`. */
  readonly maxUnsubscribeRate: number;
  /** … or its complaint rate above this. */
  readonly maxComplaintRate: number;
  /** Posterior probability that the rate exceeds its limit at which a variant is stopped. */
  readonly guardrailConfidence: number;
  /** Sent messages a variant needs before a guardrail can stop it. */
  readonly guardrailMinMessages: number;
  /** Monte-Carlo draws for propensities and probabilities of being best. */
  readonly draws: number;
}

export const DEFAULT_EXPERIMENT_SETTINGS: ExperimentSettings = {
  enabled: false,
  adoptThreshold: 0.95,
  minSamplesPerVariant: 100,
  maxUnsubscribeRate: 0.02,
  maxComplaintRate: 0.003,
  guardrailConfidence: 0.95,
  guardrailMinMessages: 50,
  draws: 1000,
};
