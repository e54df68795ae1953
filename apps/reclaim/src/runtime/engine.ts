import type { Pool } from 'pg';
import type { Logger } from 'pino';
import {
  sharedTemplateCache,
  ConsentUnsubscribeRecorder,
  EngagementPoller,
  MessageLinks,
  MessagePreviews,
  HeldEngagement,
  MessageTokens,
  OutboxChannel,
  ProviderMetricsRelay,
  withProviderErrorCounting,
  DEFAULT_CATEGORY_CACHE_TTL_MS,
  countingProviderErrors,
  SupportTicketUpdates,
  PostgresSequenceRepository,
  PostgresShopSettings,
  PostgresTemplateOverrides,
  RecoveryEngagementRecorder,
  RecoveryEventsProjector,
  RecoveryFeed,
  RegistryShopDomains,
  SmsOptOuts,
  SmsReplies,
  TemplateMessageRenderer,
  TimerDriver,
  TimerStore,
  LiveModels,
  ModelTrainer,
  ExperimentEvaluator,
  ExperimentSource,
  type Clock,
  type EffectRunnerDeps,
  type EngineLog,
  type ShopLister,
  type ShopLookup,
} from '@reclaim/application';
import type {
  CatalogPort,
  ChannelPort,
  CommercePort,
  EngagementSource,
  ProfileEnricher,
  RecoveryProfileSync,
  TicketPort,
  CustomerTicketLookup,
} from '@reclaim/ports';
import {
  createRecoveryDecider,
  experimentSettingsOf,
  type Channel,
  type RecoveryConfig,
  type RecoveryDecider,
} from '@reclaim/domain';
import type { EventStore } from '@reclaim/event-store';
import type { PersonalDataVault } from '@reclaim/privacy';
import type { MessageLinkDeps } from '../http/messages';
import type { AppConfig } from '../config/app-config';
import { buildConfiguredAdapters, configuredChannels, type ConfiguredAdapters } from './adapters';

/**
 * Adapters a test or the sandbox plugs in instead of the configured ones (each given port replaces
 * the configured one as a whole). Configured (AppConfig.providers): e-mail by SMTP or Klaviyo, else
 * the local outbox; SMS by Twilio, else none (skipped as `channel-unavailable`); tickets by Zendesk
 * or Gorgias, else none (`no-ticket-provider`); the store APIs of each shop (`STORE_ADAPTERS=on`),
 * else none (no stock information, no discount codes: `discount-unavailable`).
 */
export interface EngineAdapters {
  readonly channels?: Partial<Record<Channel, ChannelPort>>;
  readonly tickets?: TicketPort;
  /** The customer's own tickets at send time; the configured help desk's when absent. */
  readonly supportLookup?: CustomerTicketLookup;
  readonly commerce?: CommercePort;
  /** Marketing profile sync (Klaviyo); the configured one when absent. */
  readonly profiles?: RecoveryProfileSync;
  /** Enrichment at each recovery's start (Klaviyo); the configured one when absent. */
  readonly enricher?: ProfileEnricher;
  /**
   * The stores' product categories; the configured one when absent (STORE_ADAPTERS=on and
   * CATEGORY_CACHE_TTL > 0). With it, `categoryCacheTtlMs` (default the configured TTL, else 24 h).
   */
  readonly catalog?: CatalogPort;
  readonly categoryCacheTtlMs?: number;
  /** Engagement read back from the provider that delivers e-mail (Klaviyo); the configured one when absent. */
  readonly engagementSource?: EngagementSource;
  /**
   * The channel choice's uniform draws (Thompson sampling, RFC 0013 §2); `cryptoRandom` when absent.
   * Tests fix it so a sampled choice is reproducible.
   */
  readonly channelRandom?: () => number;
}

/** The recovery engine's parts, built once per runtime; the `engine` role drives them. */
export interface RecoveryEngine {
  readonly config: RecoveryConfig;
  readonly pm: RecoveryDecider;
  readonly clock: Clock;
  readonly settings: PostgresShopSettings;
  readonly sequences: PostgresSequenceRepository;
  readonly templates: PostgresTemplateOverrides;
  readonly outbox: OutboxChannel;
  readonly timers: TimerStore;
  readonly feed: RecoveryFeed;
  readonly projector: RecoveryEventsProjector;
  readonly driver: TimerDriver;
  /**
   * What the effect handlers work with; the application module imports `RecoveryEffectsModule`
   * with it (the `CommandBus`, one handler per effect, and the `EffectRunner` the workers drive).
   */
  readonly effects: EffectRunnerDeps;
  readonly links: MessageLinks;
  /** What the /u and /t controllers need. */
  readonly linkDeps: MessageLinkDeps;
  /** SMS opt-outs (R26): the Twilio inbound webhook records STOP replies through it. */
  readonly smsOptOuts: SmsOptOuts;
  /** SMS replies (not keywords): recorded as engagement on the recovery SMS they answer. */
  readonly smsReplies: SmsReplies;
  /** The providers built from the configuration (the Twilio webhooks verify with its token). */
  readonly providers: ConfiguredAdapters;
  /** Dashboard previews of sent messages and templates, and the editor's test sends. */
  readonly previews: MessagePreviews;
  /**
   * Where every failed outside call of the effects is counted (`reclaim_provider_errors_total`):
   * the HTTP module attaches the `/metrics` registry to it.
   */
  readonly providerMetrics: ProviderMetricsRelay;
  /** Engagement that came before its send was recorded: the engine's sweep applies or expires it. */
  readonly heldEngagement: HeldEngagement;
  /** Opens, clicks (the /t links) and the providers' delivery statuses (Twilio status callback). */
  readonly engagement: RecoveryEngagementRecorder;
  /**
   * Klaviyo's opens, clicks and bounces of Reclaim's messages, polled every KLAVIYO_ENGAGEMENT_POLL
   * by the engine role (EMAIL_PROVIDER=klaviyo); absent otherwise.
   */
  readonly engagementPoller?: EngagementPoller;
  /**
   * Help-desk ticket changes (Zendesk webhook, Gorgias HTTP integration) applied to the running
   * recoveries of the ticket's requester; absent without a ticket provider that reads tickets.
   */
  readonly supportTickets?: SupportTicketUpdates;
  /**
   * The recovery score (RFC 0011): each shop's live model, cached for scoring at abandonment
   * (invalidated across processes by NOTIFY), and the trainer (schedule, CLI, admin API).
   */
  readonly models: { readonly live: LiveModels; readonly trainer: ModelTrainer };
  /**
   * Experiments of step variants (RFC 0016): the snapshots recoveries start with (cached per shop)
   * and the evaluator (guardrails, posteriors, adoption), run every minute and on demand.
   */
  readonly experiments: { readonly source: ExperimentSource; readonly evaluator: ExperimentEvaluator };
  /** Lets go of provider connections (SMTP pool, HTTP agents). */
  close(): Promise<void>;
}

export function createRecoveryEngine(deps: {
  config: AppConfig;
  pool: Pool;
  store: EventStore;
  vault: PersonalDataVault;
  shops: ShopLookup & ShopLister;
  /** The identity root (stable across master-key rotations): message-link keys derive from it. */
  masterKey: Buffer;
  clock: Clock;
  log: Logger;
  adapters?: EngineAdapters;
}): RecoveryEngine {
  const { config, pool, store, vault, shops, clock } = deps;
  const recovery = config.recovery;
  const pm = createRecoveryDecider(recovery);
  const engineLog = deps.log.child({ component: 'engine' });
  const log: EngineLog = {
    warn: (obj, msg) => engineLog.warn(obj, msg),
    info: (obj, msg) => engineLog.info(obj, msg),
  };
  sharedTemplateCache().resize(config.CACHE_TEMPLATES);
  const settings = new PostgresShopSettings(
    pool,
    recovery,
    {
      ...(config.MERCHANT_NAME !== undefined ? { storeName: config.MERCHANT_NAME } : {}),
      ...(config.MERCHANT_POSTAL_ADDRESS !== undefined ? { postalAddress: config.MERCHANT_POSTAL_ADDRESS } : {}),
    },
    { maxEntries: config.CACHE_SHOP_SETTINGS },
  );
  // Current catalogues are cached with the shop settings (invalidated by the same NOTIFY).
  const sequences = new PostgresSequenceRepository(pool, recovery, settings);
  const templates = new PostgresTemplateOverrides(pool);
  const timers = new TimerStore(pool);
  const outbox = new OutboxChannel(pool, vault);
  const tokens = new MessageTokens(deps.masterKey, { clock: () => clock.now() });
  const links = new MessageLinks(config.publicUrl, tokens);
  const renderer = new TemplateMessageRenderer({
    overrides: templates,
    onInvalidOverride: (info) =>
      engineLog.warn(
        { shopId: info.shopId, templateId: info.templateId },
        'stored template override no longer compiles',
      ),
  });
  const providers = buildConfiguredAdapters(config.providers, deps.log.child({ component: 'providers' }), { pool });
  engineLog.info({ providers: providers.summary }, 'recovery providers');
  const channels = deps.adapters?.channels ?? configuredChannels(providers, outbox);
  const tickets = deps.adapters?.tickets ?? providers.tickets;
  const profiles = deps.adapters?.profiles ?? providers.profiles;
  const enricher = deps.adapters?.enricher ?? providers.enricher;
  const supportLookup = deps.adapters?.supportLookup ?? providers.supportLookup;
  const catalog = deps.adapters?.catalog ?? providers.catalog;
  const categoryCacheTtlMs =
    deps.adapters?.categoryCacheTtlMs ?? providers.categoryCacheTtlMs ?? DEFAULT_CATEGORY_CACHE_TTL_MS;
  const smsOptOuts = new SmsOptOuts({ pool, store, shops, keys: vault });
  const liveModels = new LiveModels({ store, pool, minOutcomes: config.scoring.minOutcomes });
  const trainer = new ModelTrainer({
    store,
    settings: config.scoring,
    clock: () => clock.now(),
    onModelChanged: (shopId) => liveModels.announce(shopId),
  });
  const experimentSource = new ExperimentSource({
    store,
    pool,
    attributionWindowMs: async (shopId) => (await settings.forShop(shopId)).config.attributionWindowMs,
    draws: async (shopId) => experimentSettingsOf((await settings.forShop(shopId)).config).draws,
    now: () => clock.now(),
  });
  const experimentEvaluator = new ExperimentEvaluator({
    store,
    pool,
    settings: async (shopId) => {
      const c = (await settings.forShop(shopId)).config;
      return { experiments: experimentSettingsOf(c), attributionWindowMs: c.attributionWindowMs };
    },
    catalogue: (shopId) => sequences.current(shopId),
    now: () => clock.now(),
    onChanged: (shopId) => experimentSource.forget(shopId),
  });
  const common = {
    store,
    pm,
    deciders: settings,
    shops,
    sequences,
    log,
    scoring: liveModels,
    experiments: experimentSource,
  };
  const providerMetrics = new ProviderMetricsRelay();
  const heldEngagement = new HeldEngagement({
    store,
    pool,
    deciders: settings,
    clock: () => clock.now(),
    holdMs: config.engagementHoldMs,
    log,
  });
  const engagement = new RecoveryEngagementRecorder({ held: heldEngagement });
  const engagementSource = deps.adapters?.engagementSource ?? providers.engagementSource;
  const engagementPoller =
    engagementSource !== undefined
      ? new EngagementPoller({
          pool,
          store,
          source: engagementSource,
          recorder: engagement,
          clock: () => clock.now(),
          log,
        })
      : undefined;
  return {
    config: recovery,
    pm,
    clock,
    settings,
    sequences,
    templates,
    outbox,
    timers,
    feed: new RecoveryFeed(common),
    projector: new RecoveryEventsProjector({
      timers,
      profileSync: profiles !== undefined,
      enrichment: enricher !== undefined,
      ...(catalog !== undefined && categoryCacheTtlMs > 0 ? { categories: { ttlMs: categoryCacheTtlMs } } : {}),
    }),
    driver: new TimerDriver({ ...common, pool, timers, clock }),
    effects: withProviderErrorCounting(
      {
        store,
        pool,
        pm,
        deciders: settings,
        profiles: settings,
        clock,
        vault,
        shops,
        channels,
        commerce: deps.adapters?.commerce ?? providers.commerce,
        renderer,
        links,
        ...(tickets !== undefined ? { tickets } : {}),
        ...(profiles !== undefined ? { profileSync: profiles } : {}),
        ...(enricher !== undefined ? { enricher } : {}),
        ...(supportLookup !== undefined ? { supportLookup } : {}),
        ...(catalog !== undefined ? { catalog, categoryCacheTtlMs } : {}),
        smsOptOuts,
        log,
        outsideRetry: config.outsideRetry,
        heldEngagement,
        effectMetrics: providerMetrics,
        ...(deps.adapters?.channelRandom !== undefined ? { channelRandom: deps.adapters.channelRandom } : {}),
        leaseMs: config.effectLeaseMs,
        maxRequestAttempts: config.EFFECT_MAX_ATTEMPTS,
      },
      providerMetrics,
      {
        email: deps.adapters?.channels?.email !== undefined ? 'email' : providers.summary.email,
        sms: deps.adapters?.channels?.sms !== undefined ? 'sms' : providers.summary.sms,
        tickets: deps.adapters?.tickets !== undefined ? 'tickets' : providers.summary.tickets,
        profiles: deps.adapters?.profiles !== undefined ? 'profiles' : providers.summary.profiles,
      },
    ),
    providerMetrics,
    heldEngagement,
    engagement,
    ...(engagementPoller !== undefined ? { engagementPoller } : {}),
    links,
    linkDeps: {
      tokens,
      unsubscribes: new ConsentUnsubscribeRecorder({ store, shops }),
      engagement,
      shopDomains: new RegistryShopDomains(shops, async (shopId) => (await settings.get(shopId)).domainAliases ?? []),
      clock: () => clock.now(),
    },
    smsOptOuts,
    smsReplies: new SmsReplies({ pool, phones: smsOptOuts, engagement }),
    providers,
    previews: new MessagePreviews({
      store,
      pool,
      shops,
      profiles: settings,
      overrides: templates,
      channels,
      publicUrl: config.publicUrl,
      clock,
    }),
    ...(supportLookup !== undefined
      ? {
          supportTickets: new SupportTicketUpdates({
            store,
            pool,
            deciders: settings,
            lookup: countingProviderErrors(supportLookup, () => supportLookup.desk, providerMetrics),
            shops,
            keys: vault,
            clock: () => clock.now(),
            log,
          }),
        }
      : {}),
    models: { live: liveModels, trainer },
    experiments: { source: experimentSource, evaluator: experimentEvaluator },
    close: () => providers.close(),
  };
}
