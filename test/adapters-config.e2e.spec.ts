/**
 * Provider configuration (every variable validated by AppConfig, a bad one named at start) and the
 * customer-bound discount codes of the store adapters the runtime wires (`STORE_ADAPTERS=on`).
 */
import { PlatformCommerce } from '@reclaim/platforms/commerce';
import { ConfigError, loadConfig } from '../apps/reclaim/src/config/app-config';
import { SANDBOX_CREDENTIALS, startStoreSandbox, type StoreSandbox } from '../apps/sandbox/src/stores';

const TWILIO = {
  TWILIO_ACCOUNT_SID: 'AC0123456789abcdef0123456789abcdef',
  TWILIO_AUTH_TOKEN: 'token',
  TWILIO_FROM: '+15005550006',
};

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('provider configuration', () => {
  it('defaults to the local outbox, no SMS, no tickets, store adapters on', () => {
    const config = loadConfig({});
    expect(config.providers).toEqual({
      email: { kind: 'outbox' },
      tickets: { kind: 'none' },
      storeAdapters: true,
      categoryCacheTtlMs: 86_400_000,
    });
    expect(config.SUBSCRIPTION_LAG_THRESHOLD).toBe(1000);
    expect(config.ANALYST_DB_PASSWORD).toBeUndefined();
  });

  it('picks the configured providers and builds the Twilio status callback from PUBLIC_URL', () => {
    const config = loadConfig({
      PUBLIC_URL: 'https://reclaim.example.com/',
      SMTP_URL: 'smtp://u:p@mail.example.com:587',
      MAIL_FROM: 'Shop <shop@example.com>',
      ZENDESK_API_URL: 'https://acme.zendesk.com',
      ZENDESK_EMAIL: 'agent@example.com',
      ZENDESK_API_TOKEN: 'zd',
      STORE_ADAPTERS: 'off',
      SUBSCRIPTION_LAG_THRESHOLD: '250',
      ...TWILIO,
    });
    const p = config.providers;
    expect(p.email).toMatchObject({ kind: 'smtp', config: { from: 'Shop <shop@example.com>' } });
    expect(p.sms?.config).toMatchObject({
      from: '+15005550006',
      statusCallbackUrl: 'https://reclaim.example.com/webhooks/twilio/status',
    });
    expect(p.tickets).toMatchObject({ kind: 'zendesk', config: { apiUrl: 'https://acme.zendesk.com' } });
    expect(p.storeAdapters).toBe(false);
    expect(config.SUBSCRIPTION_LAG_THRESHOLD).toBe(250);
    expect(loadConfig({ KLAVIYO_API_KEY: 'pk_x' }).providers.email.kind).toBe('klaviyo');
    expect(
      loadConfig({
        KLAVIYO_API_KEY: 'pk_x',
        SMTP_URL: 'smtp://h:25',
        MAIL_FROM: 'a@b.example',
        EMAIL_PROVIDER: 'outbox',
      }).providers.email.kind,
    ).toBe('outbox');
  });

  it.each([
    [{ SMTP_URL: 'http://mail.example.com' }, 'SMTP_URL'],
    [{ SMTP_URL: 'smtp://mail.example.com:25' }, 'SMTP_URL: MAIL_FROM is required'],
    [{ SMTP_URL: 'smtp://h:25', MAIL_FROM: 'a@b.example', DKIM_DOMAIN: 'b.example' }, 'DKIM_SELECTOR'],
    [{ EMAIL_PROVIDER: 'smtp' }, 'SMTP_URL: required when EMAIL_PROVIDER=smtp'],
    [{ EMAIL_PROVIDER: 'sendgrid' }, 'EMAIL_PROVIDER'],
    [{ KLAVIYO_API_KEY: 'pk', SMTP_URL: 'smtp://h:25', MAIL_FROM: 'a@b.example' }, 'EMAIL_PROVIDER: both'],
    [{ KLAVIYO_API_KEY: 'pk', KLAVIYO_REVISION: 'latest' }, 'KLAVIYO_REVISION'],
    [{ ...TWILIO, TWILIO_ACCOUNT_SID: 'AC123' }, 'TWILIO_ACCOUNT_SID'],
    [{ ...TWILIO, TWILIO_AUTH_TOKEN: '' }, 'TWILIO_AUTH_TOKEN is required'],
    [{ ...TWILIO, TWILIO_FROM: '' }, 'TWILIO_FROM or TWILIO_MESSAGING_SERVICE_SID is required'],
    [{ TWILIO_AUTH_TOKEN: 'x' }, 'TWILIO_ACCOUNT_SID: required with TWILIO_AUTH_TOKEN'],
    [{ ZENDESK_API_URL: 'https://a.zendesk.com' }, 'ZENDESK_EMAIL is required'],
    [{ GORGIAS_API_URL: 'https://a.gorgias.com', GORGIAS_EMAIL: 'a@b.example' }, 'GORGIAS_API_KEY is required'],
    [
      {
        ZENDESK_API_URL: 'https://a.zendesk.com',
        ZENDESK_EMAIL: 'a@b.example',
        ZENDESK_API_TOKEN: 't',
        GORGIAS_API_URL: 'https://a.gorgias.com',
        GORGIAS_EMAIL: 'a@b.example',
        GORGIAS_API_KEY: 'k',
      },
      'TICKET_PROVIDER: both',
    ],
    [{ TICKET_PROVIDER: 'gorgias' }, 'GORGIAS_API_URL: required when TICKET_PROVIDER=gorgias'],
    [{ STORE_ADAPTERS: 'maybe' }, 'STORE_ADAPTERS'],
    [{ SUBSCRIPTION_LAG_THRESHOLD: '0' }, 'SUBSCRIPTION_LAG_THRESHOLD'],
  ])('refuses %j naming the variable', (env, named) => {
    const problems = problemsOf(env as Record<string, string>);
    expect(problems.join('\n')).toContain(named);
  });
});

describe('provider configuration errors', () => {
  it('never echo a secret', () => {
    const problems = problemsOf({ SMTP_URL: 'smtps://user:s3cr3t-pass@mail example.com', MAIL_FROM: 'a@b.example' });
    expect(problems.join('\n')).toContain('SMTP_URL');
    expect(problems.join('\n')).not.toContain('s3cr3t');
  });
});

describe('discount codes bound to the customer (store stand-ins)', () => {
  let stores: StoreSandbox;
  const commerce = new PlatformCommerce();

  beforeAll(async () => {
    stores = await startStoreSandbox();
  });

  afterAll(async () => {
    await stores?.stop();
  });

  const shop = (platform: 'shopify' | 'woocommerce') => ({
    id: '7f1d3f1e-5d0b-4a51-9a8b-2a7f5f1d0c11',
    platform,
    shopDomain: 'shop.example',
    currency: 'USD',
    timezone: 'UTC',
    apiUrl: stores.urls[platform],
    apiToken: SANDBOX_CREDENTIALS[platform],
  });
  const expiresAt = new Date(Date.now() + 7 * 24 * 3600_000).toISOString();

  it('WooCommerce restricts the coupon to the shopper e-mail; without one it is open to all', async () => {
    const bound = await commerce.createDiscountCode({
      idempotencyKey: 'recovery-x-cart-1:step-1:email:discount',
      shop: shop('woocommerce'),
      percent: 5,
      expiresAt,
      cartId: 'cart-1',
      customerKey: 'e-0123',
      customerEmail: 'ada@example.com',
    });
    const open = await commerce.createDiscountCode({
      idempotencyKey: 'recovery-x-cart-2:step-1:email:discount',
      shop: shop('woocommerce'),
      percent: 5,
      expiresAt,
      cartId: 'cart-2',
    });
    const coupons = [...stores.state.woocommerce.coupons.values()] as unknown as {
      code: string;
      email_restrictions: string[];
    }[];
    const byCode = (code: string) => coupons.find((c) => c.code.toLowerCase() === code.toLowerCase());
    expect(byCode(bound.code)?.email_restrictions).toEqual(['ada@example.com']);
    expect(byCode(open.code)?.email_restrictions).toEqual([]);
  });

  it('Shopify restricts the code to the platform customer id, even when the customer key is an e-mail key', async () => {
    const { code } = await commerce.createDiscountCode({
      idempotencyKey: 'recovery-x-cart-3:step-1:email:discount',
      shop: shop('shopify'),
      percent: 10,
      expiresAt,
      cartId: 'cart-3',
      customerKey: 'e-0123',
      platformCustomerId: '6012345678901234567',
    });
    const created = stores.state.shopify.discounts.get(code.toUpperCase());
    expect(created?.input).toMatchObject({
      context: { customers: { add: ['gid://shopify/Customer/6012345678901234567'] } },
    });
  });
});
