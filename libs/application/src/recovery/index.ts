/** The recovery engine's application layer: ports, durable timers, subscriptions, effect runner, audit. */
export type { EngineLog, ShopLookup } from './ports';
export { AcceleratedClock, DatabaseClock, systemClock, type Clock, type DatabaseClockOptions } from './clock';
export { ENGINE_SCHEMA_SQL, migrateEngineTables, migrateRecoveryEngine } from './schema';
export { loadRecovery, runRecovery, type LoadedRecovery } from './recovery-stream';
export {
  experimentEvidence,
  experimentReports,
  experimentStates,
  type ExperimentReport,
  type ExperimentArmReport,
  ExperimentEvaluator,
  ExperimentSource,
  type EvaluationSummary,
  type ExperimentEvidence,
} from './experiments';
export {
  buildStartContext,
  cartSnapshotOf,
  consentOf,
  cryptoRandom,
  customerFeatures,
  customerHistoryFacts,
  type CustomerHistoryFacts,
  type StartContextDeps,
} from './facts';
export {
  InvalidSequenceCatalogueError,
  PostgresSequenceRepository,
  type SequenceRepository,
} from './sequences/sequence-repository';
export {
  TIMERS_CHANNEL,
  TimerStore,
  timerSequence,
  type ClaimedTimer,
  type TimerToSchedule,
} from './timers/timer-store';
export { listenForWakeUps, WakeLoop, type WakeLoopOptions } from './timers/wake';
export { TIMER_DEFAULTS, TimerDriver, type TickResult, type TimerDriverDeps } from './timers/timer-driver';
export { RECOVERY_FEED, RECOVERY_FEED_FILTER, RecoveryFeed, type RecoveryFeedDeps } from './recovery-feed';
export {
  RECOVERY_EVENTS,
  RECOVERY_EVENTS_FILTER,
  RecoveryEventsProjector,
  type RecoveryEventsProjectorDeps,
} from './recovery-events-projector';
export { OrderAttribution } from './attribution';
export {
  EFFECTS_CHANNEL,
  EffectQueue,
  type BlockedEffect,
  type EffectKind,
  type EffectRequest,
} from './effects/effect-queue';
export {
  SmsOptOuts,
  type PhoneKeying,
  type ShopLister,
  type SmsOptOutPort,
  type SmsOptOutResult,
} from './sms/sms-opt-outs';
export { REPLY_WINDOW_MS, SmsReplies, type SmsReplyResult } from './sms/sms-replies';
export { EffectRunner, type RunResult } from './effects/effect-runner';
export {
  SupportTicketUpdates,
  type SupportTicketUpdateResult,
  type SupportTicketUpdatesDeps,
} from './support/support-ticket-updates';
export {
  EFFECT_DEFAULTS,
  EFFECT_DEPS,
  outsideRetryDelayMs,
  type ContactOpener,
  type EffectRunnerDeps,
} from './effects/effect-deps';
export {
  countingProviderErrors,
  ProviderMetricsRelay,
  withProviderErrorCounting,
} from './effects/provider-error-counting';
export { storeProblem } from './effects/check-inventory.handler';
export {
  categoriesFailureOf,
  CategorizeCartProductsHandler,
  DEFAULT_CATEGORY_CACHE_TTL_MS,
} from './effects/categorize-cart-products.handler';
export { productCategoryCache, storeProductIds } from './categories';
export {
  DEFAULT_ENGAGEMENT_HOLD_MS,
  HeldEngagement,
  type EngagementRecordResult,
  type HeldEngagementDeps,
  type HeldInput,
} from './links/held-engagement';
export {
  EngagementPoller,
  FIRST_POLL_LOOKBACK_MS,
  type EngagementPollResult,
  type EngagementSourceStatus,
} from './links/engagement-poller';
export {
  CategorizeCartProducts,
  CheckInventory,
  OpenSupportTicket,
  ReconcileUnknownOutcome,
  SendRecoveryStep,
  SyncProfile,
  type EffectOutcome,
  type InventoryOutcome,
} from './effects/effect-commands';
export {
  createEffectRunner,
  EFFECT_COMMAND_HANDLERS,
  RecoveryEffectsModule,
  type StandaloneEffectRunner,
} from './effects/effects.module';
export {
  customerHistory,
  type CustomerHistory,
  type CustomerHistoryOptions,
  type HistoryEntry,
  type HistoryEntryKind,
  type RecoveryDecisionInputs,
} from './audit/customer-history';
export {
  CUSTOMER_DATA_EXPORT_FORMAT,
  customerDataExport,
  type CustomerDataExport,
  type CustomerDataExportDeps,
  type ExportedCart,
  type ExportedProfile,
} from './audit/customer-data-export';
export {
  PostgresShopSettings,
  sendWindowOf,
  shopRecoveryConfig,
  validateEffectiveRouting,
  validateRoutingSequences,
  validateShopSettings,
  type QuietHours,
  type ShopDeciders,
  type ShopProfile,
  type ShopProfiles,
  type ShopRecoverySettings,
  type ShopSettingsDefaults,
} from './settings/shop-settings';
export {
  ConsentUnsubscribeRecorder,
  InvalidTemplateError,
  PostgresTemplateOverrides,
  RecoveryEngagementRecorder,
  RegistryShopDomains,
} from './links/message-link-recorders';
export {
  maskRecipient,
  OutboxChannel,
  StorelessCommerce,
  type ContactSealer,
  type OutboxEntry,
} from './effects/default-adapters';
export { retryDeadLetter, type RetryDeadLetterDeps, type RetryDeadLetterResult } from './commands/retry-dead-letter';
export {
  MessagePreviews,
  type MessagePreviewDeps,
  type PreviewCart,
  type PreviewRequest,
  type PreviewResult,
  type TestSendResult,
} from './preview/message-previews';
export {
  incentiveReport,
  PROFIT_PER_CART_VALUE,
  type IncentiveLevelReport,
  type IncentiveSegmentReport,
} from './incentive-report';
