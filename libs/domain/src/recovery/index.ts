/**
 * Public API of the recovery engine's pure domain. Explicit names (not `export *`) so the
 * domain barrel can re-export this without clashing with shared helpers such as `IsoTimestamp`.
 */
export {
  CHANNELS,
  effectIdempotencyKey,
  isValidE164,
  recoveryIdFor,
  type CartSnapshot,
  type UnknownInputs,
  type Channel,
  type CheckoutStage,
  type Device,
  type Reach,
  type RecoveryItem,
} from './types';
export { RecoveryInputError } from './time';
export {
  armProbabilities,
  drawArm,
  RECOVERY_ARMS,
  recoveryArm,
  type ArmDraw,
  type ArmSettings,
  type RecoveryArm,
} from './arms';
export {
  describeRouting,
  ROUTED_SEQUENCE_BANDS,
  ROUTING_BANDS,
  routeByScore,
  validateRoutingThresholds,
  type RecordedScore,
  type RoutedSequenceBand,
  type RoutingBand,
  type RoutingDecision,
  type RoutingReason,
  type RoutingSettings,
  type RoutingThresholds,
} from './routing';
export { featuresAtAbandonment, RECOVERY_FEATURES_SCHEMA, type RecoveryFeatures } from './features';
export {
  SCORE_COLUMN_KINDS,
  SCORE_COLUMNS,
  EXPLANATION_FEATURES,
  explainScore,
  scoreFeatures,
  scoreRow,
  type ModelScope,
  type ScoreResult,
  type ScoringContext,
} from './score';
export {
  defaultRecoveryConfig,
  experimentSettingsOf,
  RECOVERY_SETTING_DEFAULTS,
  recoveryConfig,
  type EmailConsentPolicy,
  type LocalWindow,
  type RecoveryConfig,
  type RecoveryConfigOverrides,
  type SegmentThresholds,
} from './config';
export {
  SEGMENTS,
  segment,
  type CartFeatures,
  type CustomerFeatures,
  type Segment,
  type Segmentation,
} from './segments';
export {
  defaultSequences,
  selectSequence,
  sequenceMatches,
  validateSequence,
  validateSequenceCatalogue,
  validateVariants,
  applyVariant,
  type SequenceCatalogue,
  type SequenceDefinition,
  type SequenceMatch,
  type SequenceStep,
  type ValidationError,
} from './sequences';
export { isInsideWindow, isValidTimeZone, localMinuteOfDay, nextAllowedTime } from './quiet-hours';
export {
  assessFatigue,
  describeFatigue,
  ignoredOtherRecoveryMessages,
  isHumanOpen,
  type EngagementHistory,
  type EngagementKind,
  type EngagementMessage,
  type FatigueAssessment,
  type FatigueSettings,
} from './fatigue';
export {
  assessResponsiveness,
  betaPosterior,
  customerTally,
  describeResponsiveness,
  priorFromRate,
  skipsForLowResponsiveness,
  smoothedRate,
  type BetaParams,
  type BetaPosterior,
  type EngagementScoreSettings,
  type ResponsivenessAssessment,
  type ResponsivenessLevel,
  type Tally,
} from './engagement-score';
export {
  CHANNEL_PREFERENCE,
  chooseChannel,
  describeChannelChoice,
  RESPONSE_SEGMENT_ORDER,
  responseSegmentOf,
  type ChannelChoice,
  type ChannelChoiceSettings,
  type ChannelEstimate,
  type ChannelEvidence,
} from './channel-choice';
export {
  checkBeforeSend,
  discountBlocked,
  type ChannelConsent,
  type CheckResult,
  type ConsentStatus,
  type ConsentUsed,
  type DeferReason,
  type TimeZoneSource,
  type DiscountOffer,
  type DiscountWithheldReason,
  OUTSIDE_ERROR_DEFER_REASONS,
  type OfferedItem,
  type SendCheckContext,
  type SendDecision,
  type SendMode,
  type SkipReason,
  type StockLine,
  type StopReason,
} from './pre-send';
export { retryDelayMs } from './retry';
export {
  alternativeItem,
  BACK_IN_STOCK_FIRST_STEP,
  alternativeLineId,
  chooseAlternative,
  DEFAULT_ALTERNATIVE_RULES,
  MAX_ALTERNATIVE_CANDIDATES,
  type AlternativeCandidate,
  type AlternativeRules,
  type AlternativeSource,
  type CandidateVerdict,
  type ConsideredCandidate,
  type OfferedAlternative,
  type SoldOutLine,
} from './alternatives';
export { attributeOrder, type AttributableMessage, type AttributableOrder, type Attribution } from './attribution';
export type * from './recovery.messages';
export {
  segmentsFromEnrichment,
  type EnrichmentSource,
  type EnrichmentUnavailableReason,
  type NamedGroup,
  type PredictiveFacts,
  type ProfileEnrichment,
} from './enrichment';
export { outcomeFromCheck, sentOutcome, summarizeDecision } from './outcomes';
export {
  customerTicketKey,
  readCustomerTickets,
  SUPPORT_TICKET_MATCHES,
  ticketConcern,
  type CustomerTicketFact,
  type CustomerTicketText,
  type SupportLookupFailure,
  type SupportLookupResult,
  type SupportSource,
  type SupportTicketMatch,
  type TicketConcern,
} from './support-tickets';
export { createRecoveryDecider, engagementStatus, type RecoveryDecider } from './process-manager';
export {
  evolveRecovery,
  initialRecoveryState,
  replayRecovery,
  type CurrentTimer,
  type RecoveryState,
  type StepState,
  type StepStatus,
} from './recovery-state';
export { deadLetterRetryRefusal, sendFactsFromState, stepSendTimeArm } from './recovery-queries';
export { discountCostOf } from './discount-cost';
export {
  posteriorOf,
  posteriorsOf,
  probabilityBest,
  probabilityRateAbove,
  sampleBeta,
  sampleGamma,
  sampleReward,
  sampleStandardNormal,
  seededUniform,
  seedOf,
  thompsonChoice,
  valuePrior,
  type ArmEvidence,
  type ArmPosterior,
  type UniformSource,
  type ValuePrior,
} from './thompson';
export {
  assignVariant,
  DEFAULT_EXPERIMENT_SETTINGS,
  EXPERIMENT_SEGMENT_ORDER,
  experimentIdFor,
  experimentSegment,
  parseExperimentId,
  VARIANT_FIELDS,
  type AssignmentMode,
  type ExperimentSettings,
  type ExperimentSnapshot,
  type ExperimentsContext,
  type StepVariant,
  type VariantAssignment,
} from './variants';
export { fromStoredRecoveryEvent, isRecoveryEvent, toStoredRecoveryEvent } from './recovery-events';
export {
  chooseSendTime,
  controlArmChoice,
  customerDistribution,
  describeSendTime,
  emptyProfile,
  localSlot,
  profileFromCells,
  sendTimeArm,
  sendTimeWindow,
  shopDistribution,
  HOURS,
  WEEKDAYS,
  SHOP_PSEUDO_EVENTS,
  type EngagementCell,
  type EngagementProfile,
  type HourDistribution,
  type SendTimeArm,
  type SendTimeChoice,
  type SendTimeEvidence,
  type SendTimeInput,
  type SendTimeReason,
  type SendTimeSettings,
  type SendTimeZoneSource,
} from './send-time';
export { recoveryReward, rewardStatus, type RewardInput, type RewardStatus, type RewardTiming } from './reward';
export {
  chooseIncentive,
  DEFAULT_INCENTIVE_SETTINGS,
  DISCOUNT_POLICIES,
  expectedIncrementalProfits,
  incentiveLevels,
  levelPosteriors,
  type CodeFarmingSettings,
  type DiscountPolicy,
  type IncentiveChoice,
  type IncentiveEvidence,
  type IncentiveInput,
  type IncentiveSettings,
  type LevelPosterior,
  type LevelTally,
  type RecoveryIncentive,
} from './incentives';
export {
  checkCodeFarmingSettings,
  describeCodeFarming,
  detectCodeFarming,
  type CodeFarmingEvidence,
  type CodeFarmingHistory,
  type CodePurchase,
} from './code-farming';
