import type { Pool } from 'pg';
import type { Logger } from 'pino';
import {
  ConsentUnsubscribeRecorder,
  EffectRunner,
  MessageLinks,
  MessageTokens,
  OutboxChannel,
  PostgresSequenceRepository,
  PostgresShopSettings,
  PostgresTemplateOverrides,
  RecoveryEngagementRecorder,
  RecoveryEventsProjector,
  RecoveryFeed,
  RegistryShopDomains,
  StorelessCommerce,
  TemplateMessageRenderer,
  TimerDriver,
  TimerStore,
  type ChannelPort,
  type Clock,
  type CommercePort,
  type EngineLog,
  type ShopLookup,
  type TicketPort,
} from '@reclaim/application';
import { createRecoveryDecider, type Channel, type RecoveryConfig, type RecoveryDecider } from '@reclaim/domain';
import type { EventStore } from '@reclaim/event-store';
import type { PersonalDataVault } from '@reclaim/privacy';
import type { MessageLinkDeps } from '../http/messages';
import type { AppConfig } from '../config/app-config';

/** Adapters a test, the sandbox or (later) the integrations issue plugs in; defaults below. */
export interface EngineAdapters {
  /** Default: email to the local outbox, no SMS (the SMS channel is skipped as `channel-unavailable`). */
  readonly channels?: Partial<Record<Channel, ChannelPort>>;
  /** Default: none (tickets recorded as skipped, `no-ticket-provider`). */
  readonly tickets?: TicketPort;
  /** Default: no store adapter (no stock information, no discount codes: `discount-unavailable`). */
  readonly commerce?: CommercePort;
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
  readonly runner: EffectRunner;
  readonly links: MessageLinks;
  /** What the /u and /t controllers need. */
  readonly linkDeps: MessageLinkDeps;
}

export function createRecoveryEngine(deps: {
  config: AppConfig;
  pool: Pool;
  store: EventStore;
  vault: PersonalDataVault;
  shops: ShopLookup;
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
  const settings = new PostgresShopSettings(pool, recovery, {
    ...(config.MERCHANT_NAME !== undefined ? { storeName: config.MERCHANT_NAME } : {}),
    ...(config.MERCHANT_POSTAL_ADDRESS !== undefined ? { postalAddress: config.MERCHANT_POSTAL_ADDRESS } : {}),
  });
  const sequences = new PostgresSequenceRepository(pool, recovery);
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
  const channels = deps.adapters?.channels ?? { email: outbox };
  const common = { store, pm, deciders: settings, shops, sequences, log };
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
    projector: new RecoveryEventsProjector({ timers }),
    driver: new TimerDriver({ ...common, pool, timers, clock }),
    runner: new EffectRunner({
      store,
      pool,
      pm,
      deciders: settings,
      profiles: settings,
      clock,
      vault,
      shops,
      channels,
      commerce: deps.adapters?.commerce ?? new StorelessCommerce(),
      renderer,
      links,
      ...(deps.adapters?.tickets !== undefined ? { tickets: deps.adapters.tickets } : {}),
      log,
    }),
    links,
    linkDeps: {
      tokens,
      unsubscribes: new ConsentUnsubscribeRecorder({ store, shops }),
      engagement: new RecoveryEngagementRecorder({ store, deciders: settings }),
      shopDomains: new RegistryShopDomains(shops, async (shopId) => (await settings.get(shopId)).domainAliases ?? []),
      clock: () => clock.now(),
    },
  };
}
