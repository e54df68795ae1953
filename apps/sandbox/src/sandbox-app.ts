/**
 * The whole sandbox in one call: the store stand-ins (Shopify Admin GraphQL, BigCommerce,
 * WooCommerce) and the provider stand-ins (Klaviyo, Twilio, Gorgias, Zendesk, SMTP sink with its
 * mail page), and {@link SandboxApp.applianceEnv}: the environment that points an appliance at
 * them (the integrations' `*_URL` overrides and sandbox credentials), for `npm start` or for an
 * in-process `loadConfig(...)`.
 */
import { startProviderSandbox, type ProviderSandbox } from './providers';
import { startStoreSandbox, type CatalogueItem, type StoreSandbox } from './stores';

export interface SandboxAppOptions {
  readonly host?: string;
  /** Store stand-ins' HTTP port (0 = free port). */
  readonly storePort?: number;
  /** Provider stand-ins' HTTP port (0 = free port). */
  readonly providerPort?: number;
  /** SMTP sink port (0 = free port). */
  readonly smtpPort?: number;
  readonly catalogue?: readonly CatalogueItem[];
  /** Sender of the recovery emails (`MAIL_FROM`). */
  readonly mailFrom?: string;
  /** Which help desk opens the tickets (default Zendesk). */
  readonly ticketProvider?: 'zendesk' | 'gorgias';
}

export interface SandboxApp {
  readonly stores: StoreSandbox;
  readonly providers: ProviderSandbox;
  /** Every URL a person or a test may want, by name. */
  urls(): Record<string, string>;
  /** Environment for an appliance that should use the stand-ins. */
  applianceEnv(): Record<string, string>;
  stop(): Promise<void>;
}

export async function startSandboxApp(options: SandboxAppOptions = {}): Promise<SandboxApp> {
  const host = options.host ?? '127.0.0.1';
  const stores = await startStoreSandbox({
    host,
    port: options.storePort ?? 0,
    ...(options.catalogue !== undefined ? { catalogue: options.catalogue } : {}),
  });
  let providers: ProviderSandbox;
  try {
    providers = await startProviderSandbox({ host, port: options.providerPort ?? 0, smtpPort: options.smtpPort ?? 0 });
  } catch (err) {
    await stores.stop();
    throw err;
  }
  const mailFrom = options.mailFrom ?? 'Reclaim sandbox <recover@sandbox.example>';
  const c = providers.credentials;
  return {
    stores,
    providers,
    urls: () => ({
      'SMTP sink page': providers.urls.mailPage,
      'SMTP sink (JSON)': `${providers.urls.control}/mail.json`,
      'SMTP server': providers.urls.smtp.replace(/\/\/[^@]*@/, '//'),
      'provider requests': `${providers.urls.control}/requests`,
      Klaviyo: providers.urls.klaviyo,
      Twilio: providers.urls.twilio,
      Gorgias: providers.urls.gorgias,
      Zendesk: providers.urls.zendesk,
      'Shopify Admin API': stores.urls.shopify,
      'BigCommerce API': stores.urls.bigcommerce,
      'WooCommerce API': `${stores.urls.woocommerce}/wp-json/wc/v3`,
      'store requests': `${stores.base}/__sandbox/requests`,
    }),
    applianceEnv: () => ({
      EMAIL_PROVIDER: 'smtp',
      SMTP_URL: providers.urls.smtp,
      MAIL_FROM: mailFrom,
      KLAVIYO_API_URL: providers.urls.klaviyo,
      KLAVIYO_API_KEY: c.klaviyoApiKey,
      TWILIO_API_URL: providers.urls.twilio,
      TWILIO_ACCOUNT_SID: c.twilioAccountSid,
      TWILIO_AUTH_TOKEN: c.twilioAuthToken,
      TWILIO_FROM: c.twilioFrom,
      TICKET_PROVIDER: options.ticketProvider ?? 'zendesk',
      GORGIAS_API_URL: providers.urls.gorgias,
      GORGIAS_EMAIL: c.gorgiasEmail,
      GORGIAS_API_KEY: c.gorgiasApiKey,
      ZENDESK_API_URL: providers.urls.zendesk,
      ZENDESK_EMAIL: c.zendeskEmail,
      ZENDESK_API_TOKEN: c.zendeskApiToken,
      STORE_ADAPTERS: 'on',
      // The stand-ins listen on 127.0.0.1: loopback store and provider URLs are opted into explicitly (R22).
      ALLOW_PRIVATE_STORE_URLS: 'true',
    }),
    stop: async () => {
      await providers.stop();
      await stores.stop();
    },
  };
}
