import type { Pool } from 'pg';
import type { Logger } from 'pino';
import { StorelessCommerce } from '@reclaim/application';
import type {
  ChannelPort,
  CatalogPort,
  CommercePort,
  EngagementSource,
  ProfileEnricher,
  RecoveryProfileSync,
  TicketPort,
  CustomerTicketLookup,
} from '@reclaim/ports';
import type { Channel } from '@reclaim/domain';
import { PlatformCommerce } from '@reclaim/platforms/commerce';
import {
  GorgiasTickets,
  KlaviyoApi,
  KlaviyoEngagementFeed,
  KlaviyoEnrichment,
  KlaviyoFlowChannel,
  KlaviyoProfiles,
  PostgresSendJournal,
  SmtpChannel,
  TwilioSmsChannel,
  ZendeskTickets,
  type ProviderLog,
} from '@reclaim/providers';
import type { ProviderSettings } from '../config/app-config';

/** The providers built from the configuration (AppConfig.providers), and how to let go of them. */
export interface ConfiguredAdapters {
  /** Without an e-mail provider configured: undefined, the engine uses its local outbox. */
  readonly email?: ChannelPort;
  /** Twilio, when configured: also verifies the status-callback signatures. */
  readonly twilio?: TwilioSmsChannel;
  /** Kept for the inbound-SMS signature check. Never logged. */
  readonly twilioAuthToken?: string;
  readonly tickets?: TicketPort;
  /** The same help desk, reading the customer's own open tickets at send time (SUPPORT_LOOKUP_TIMEOUT > 0). */
  readonly supportLookup?: CustomerTicketLookup;
  /** KLAVIYO_API_KEY set: pushes each recovery's segment and context to the Klaviyo profile. */
  readonly profiles?: RecoveryProfileSync;
  /** KLAVIYO_API_KEY set (and KLAVIYO_ENRICHMENT_TIMEOUT > 0): reads the shopper's Klaviyo facts at each start. */
  readonly enricher?: ProfileEnricher;
  /** EMAIL_PROVIDER=klaviyo: Klaviyo's opens, clicks and bounces of the e-mails its flow sent for Reclaim. */
  readonly engagementSource?: EngagementSource;
  readonly commerce: CommercePort;
  /** STORE_ADAPTERS=on and CATEGORY_CACHE_TTL > 0: the stores' product categories (the same store adapters). */
  readonly catalog?: CatalogPort;
  /** How long a product's recorded categories count as fresh. */
  readonly categoryCacheTtlMs?: number;
  /** Names only (no secrets), for the start-up log. */
  readonly summary: {
    readonly email: string;
    readonly sms: string;
    readonly tickets: string;
    readonly profiles: string;
    readonly enrichment: string;
    readonly store: string;
  };
  close(): Promise<void>;
}

/**
 * Builds the email, SMS, ticket and store adapters the configuration names. Nothing here connects:
 * SMTP pools and HTTP agents open on first use. With a `pool`, SMTP and Twilio keep their send
 * journal in `engine.send_journal` (created with the engine's tables), so reconciliation after an unknown outcome
 * (R2) still knows what the previous process sent; without one, the journal is in memory.
 */
export function buildConfiguredAdapters(
  settings: ProviderSettings,
  logger: Logger,
  deps: { readonly pool?: Pool } = {},
): ConfiguredAdapters {
  const journal = (provider: string) =>
    deps.pool !== undefined ? { journal: new PostgresSendJournal(deps.pool, provider) } : {};
  const log: ProviderLog = {
    warn: (obj, msg) => logger.warn(obj, msg),
    info: (obj, msg) => logger.info(obj, msg),
  };
  const closers: (() => unknown)[] = [];

  let email: ChannelPort | undefined;
  if (settings.email.kind === 'smtp') {
    const smtp = new SmtpChannel(settings.email.config, { log, ...journal('smtp') });
    closers.push(() => smtp.close());
    email = smtp;
  }
  let klaviyo: KlaviyoApi | undefined;
  const klaviyoConfig = settings.email.kind === 'klaviyo' ? settings.email.config : settings.klaviyo;
  if (klaviyoConfig !== undefined) {
    const api = new KlaviyoApi(klaviyoConfig, { log });
    closers.push(() => api.close());
    klaviyo = api;
  }
  let engagementSource: EngagementSource | undefined;
  if (settings.email.kind === 'klaviyo' && klaviyo !== undefined) {
    email = new KlaviyoFlowChannel(klaviyo);
    engagementSource = new KlaviyoEngagementFeed(klaviyo);
  }
  const profiles = klaviyo !== undefined ? new KlaviyoProfiles(klaviyo) : undefined;
  let enricher: ProfileEnricher | undefined;
  const enrichTimeout = settings.klaviyoEnrichmentTimeoutMs;
  if (klaviyoConfig !== undefined && enrichTimeout !== undefined) {
    // A client of its own: one attempt, a short timeout (the recovery goes on without the facts).
    const api = new KlaviyoApi({ ...klaviyoConfig, timeoutMs: enrichTimeout }, { log, retry: { maxAttempts: 1 } });
    closers.push(() => api.close());
    enricher = new KlaviyoEnrichment(api, { timeoutMs: enrichTimeout });
  }

  let twilio: TwilioSmsChannel | undefined;
  if (settings.sms) {
    twilio = new TwilioSmsChannel(settings.sms.config, { log, ...journal('twilio') });
    const t = twilio;
    closers.push(() => t.close());
  }

  let tickets: TicketPort | undefined;
  let supportLookup: CustomerTicketLookup | undefined;
  const lookupTimeoutMs = settings.supportLookupTimeoutMs;
  if (settings.tickets.kind === 'zendesk') {
    const zendesk = new ZendeskTickets({ ...settings.tickets.config, lookupTimeoutMs }, { log });
    closers.push(() => zendesk.close());
    tickets = zendesk;
    if (lookupTimeoutMs !== undefined) supportLookup = zendesk;
  } else if (settings.tickets.kind === 'gorgias') {
    const gorgias = new GorgiasTickets({ ...settings.tickets.config, lookupTimeoutMs }, { log });
    closers.push(() => gorgias.close());
    tickets = gorgias;
    if (lookupTimeoutMs !== undefined) supportLookup = gorgias;
  }

  const store = settings.storeAdapters ? new PlatformCommerce() : undefined;
  return {
    ...(email !== undefined ? { email } : {}),
    ...(twilio !== undefined ? { twilio, twilioAuthToken: settings.sms?.config.authToken } : {}),
    ...(tickets !== undefined ? { tickets } : {}),
    ...(supportLookup !== undefined ? { supportLookup } : {}),
    ...(profiles !== undefined ? { profiles } : {}),
    ...(enricher !== undefined ? { enricher } : {}),
    ...(engagementSource !== undefined ? { engagementSource } : {}),
    // Each shop's own apiUrl/apiToken; a shop without them gets no stock and no codes.
    commerce: store ?? new StorelessCommerce(),
    ...(store !== undefined && settings.categoryCacheTtlMs !== undefined
      ? { catalog: store, categoryCacheTtlMs: settings.categoryCacheTtlMs }
      : {}),
    summary: {
      email: settings.email.kind,
      sms: settings.sms ? 'twilio' : 'none',
      tickets: settings.tickets.kind,
      profiles: profiles !== undefined ? 'klaviyo' : 'none',
      enrichment: enricher !== undefined ? 'klaviyo' : 'none',
      store: settings.storeAdapters ? 'on' : 'off',
    },
    async close() {
      await Promise.all(closers.map(async (c) => c())).catch(() => undefined);
    },
  };
}

/** The channel map the effect runner gets: configured providers, the outbox when no e-mail provider is. */
export function configuredChannels(
  adapters: ConfiguredAdapters,
  outbox: ChannelPort,
): Partial<Record<Channel, ChannelPort>> {
  return { email: adapters.email ?? outbox, ...(adapters.twilio !== undefined ? { sms: adapters.twilio } : {}) };
}
