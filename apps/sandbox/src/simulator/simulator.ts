/**
 * The shopper simulator: shops on Shopify, BigCommerce and WooCommerce registered in the appliance
 * (`POST /api/shops`, `apiUrl` = the store stand-in), customers (new / returning / VIP with an
 * order history), and shoppers arriving at a steady rate who go cart → checkout → ~70 % abandon.
 * Some come back on their own, the others react to what the appliance sends them: they open and
 * click the tracked links in the emails the SMTP sink received (more often when the email carried
 * a discount), buy with the code, unsubscribe now and then, and reply STOP to some SMS. Buying =
 * an order placed in the store stand-in + the platform's order webhook(s).
 *
 * Time: the simulator and the appliance share the wall clock. Every shopper delay is a fraction
 * of the appliance's ABANDON_AFTER (`abandonAfterMs`), so shortening the appliance's durations
 * (the demo runs ABANDON_AFTER=20s for the real-world 1 h: 1 s = 3 simulated minutes)
 * accelerates the shoppers by the same factor. Every loop is bounded: no new shopper after
 * `durationMs`, no reaction after `durationMs + drainMs`, at most `maxShoppers`.
 */
import { createHmac } from 'node:crypto';
import Decimal from 'decimal.js';
import type { SandboxApp } from '../sandbox-app';
import { promotionAsCoupon, SANDBOX_BIGCOMMERCE_STORE_HASH, type CatalogueItem } from '../stores';
import { discountCodesIn, mailBodies, trackedLinks } from './mime';
import { Random } from './random';
import {
  bigCommerceDelivery,
  cartflowsDelivery,
  rfc2822,
  shopifyDelivery,
  wooDelivery,
  wooGmt,
  type Delivery,
  type WebhookShop,
} from './webhooks';

export type SimPlatform = 'shopify' | 'bigcommerce' | 'woocommerce';
export type CustomerKind = 'new' | 'returning' | 'vip';

export interface SimShopSpec {
  readonly platform: SimPlatform;
  readonly name: string;
  /** Shopify host, WooCommerce site URL (BigCommerce is always the stand-in's store hash). */
  readonly domain?: string;
  readonly currency?: string;
}

export const DEFAULT_SHOPS: readonly SimShopSpec[] = [
  { platform: 'shopify', name: 'Lumen Lamps', domain: 'lumen-lamps.myshopify.com' },
  { platform: 'bigcommerce', name: 'Summit Gear' },
  { platform: 'woocommerce', name: 'Tent & Trail', domain: 'https://tent-and-trail.example' },
];

/** Variants everywhere (Shopify and BigCommerce need them; WooCommerce variations). */
export const DEMO_CATALOGUE: readonly CatalogueItem[] = [
  { productId: '5001', variantId: '50011', title: 'Brass desk lamp', sku: 'LAMP-BRASS', price: '129.00', stock: null },
  { productId: '5002', variantId: '50021', title: 'Linen lampshade', sku: 'SHADE-LINEN', price: '39.50', stock: null },
  { productId: '5003', variantId: '50031', title: 'Walnut floor lamp', sku: 'LAMP-WALNUT', price: '289.00', stock: 60 },
  {
    productId: '5004',
    variantId: '50041',
    title: 'Smart bulb (4-pack)',
    sku: 'BULB-4',
    price: '29.90',
    salePrice: '24.90',
    stock: null,
  },
  { productId: '5005', variantId: '50051', title: 'Two-person tent', sku: 'TENT-2', price: '320.50', stock: 60 },
  { productId: '5006', variantId: '50061', title: 'Trail backpack 38L', sku: 'PACK-38', price: '149.00', stock: null },
  { productId: '5007', variantId: '50071', title: 'Enamel mug', sku: 'MUG-ENAMEL', price: '14.00', stock: null },
  { productId: '5008', variantId: '50081', title: 'Down sleeping bag', sku: 'BAG-DOWN', price: '219.00', stock: null },
];

export interface SimulatorOptions {
  /** The appliance, e.g. `http://127.0.0.1:3000`. */
  readonly applianceUrl: string;
  readonly adminToken: string;
  /** The stand-ins, in this process (orders go into their state; received mail and SMS are read from them). */
  readonly sandbox: SandboxApp;
  /** The appliance's ABANDON_AFTER in ms: every shopper delay is a fraction of it. */
  readonly abandonAfterMs: number;
  /** New shoppers arrive for this long. */
  readonly durationMs: number;
  /** Then shoppers keep reacting to messages for this long (default 0). */
  readonly drainMs?: number;
  /** Arrivals per minute over all shops (default 40). */
  readonly shoppersPerMinute?: number;
  /** Upper bound of shoppers (default 400). */
  readonly maxShoppers?: number;
  readonly shops?: readonly SimShopSpec[];
  readonly customersPerShop?: number;
  /** Share of checkouts left without buying (default 0.7). */
  readonly abandonRate?: number;
  /** Share of abandoners who come back and buy without any message (default 0.12). */
  readonly organicReturnRate?: number;
  readonly postalAddress?: string;
  readonly seed?: number;
  /** The appliance's PUBLIC_URL (Twilio signs inbound webhooks over it); default `applianceUrl`. */
  readonly publicUrl?: string;
  readonly log?: (line: string) => void;
}

export interface SimShop extends WebhookShop {
  readonly spec: SimShopSpec;
  readonly id: string;
  readonly currency: string;
  readonly timezone: string;
  readonly apiUrl: string;
  /** Host of the storefront (checkout links point at it). */
  readonly storefront: string;
  readonly customers: SimCustomer[];
  /** What connecting the shop did on the store stand-in (webhook subscriptions), for the log. */
  readonly connection?: string;
}

export interface SimCustomer {
  readonly shop: SimShop;
  readonly kind: CustomerKind;
  readonly firstName: string;
  readonly lastName: string;
  readonly email: string;
  readonly phone?: string;
  readonly emailConsent: boolean;
  readonly smsConsent: boolean;
  readonly platformId: string;
  journey?: SimJourney;
  busyUntil: number;
}

export interface SimLine {
  readonly productId: string;
  readonly variantId: string;
  readonly title: string;
  readonly sku: string;
  readonly price: string;
  readonly quantity: number;
}

export type Outcome = 'direct' | 'organic' | 'recovery-link';

export interface SimJourney {
  readonly id: number;
  readonly shop: SimShop;
  readonly customer: SimCustomer;
  /** The appliance's cart id (recovery id = `recovery-<shopId>-<cartId>`). */
  readonly cartId: string;
  readonly recoveryId: string;
  readonly token: string;
  readonly lines: SimLine[];
  readonly total: string;
  readonly startedAt: number;
  checkoutAt?: number;
  abandoned: boolean;
  bought?: {
    readonly via: Outcome;
    readonly orderId: string;
    readonly code?: string;
    /** When the order webhook was acknowledged by the appliance. */
    readonly ackAt: number;
    readonly revenue: string;
  };
  buying: boolean;
  readonly codesSeen: string[];
  emails: number;
  sms: number;
  chain: Promise<void>;
}

export interface SimulatorStats {
  shoppers: number;
  checkouts: number;
  abandoned: number;
  boughtDirect: number;
  boughtOrganic: number;
  boughtAfterClick: number;
  boughtWithCode: number;
  emailsReceived: number;
  smsReceived: number;
  opens: number;
  clicks: number;
  unsubscribes: number;
  stopReplies: number;
  webhooks: number;
  webhookFailures: number;
  historicOrders: number;
  errors: number;
}

const FIRST = [
  'Ada',
  'Grace',
  'Alan',
  'Emmy',
  'Carl',
  'Rosa',
  'Nils',
  'Mira',
  'Ivo',
  'Lena',
  'Omar',
  'Tess',
  'Yuki',
  'Paul',
  'Zoe',
  'Raj',
];
const LAST = ['Lovelace', 'Hopper', 'Turing', 'Noether', 'Gauss', 'Franklin', 'Bohr', 'Curie', 'Andric', 'Meitner'];
const AGENTS = [
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/124.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 Version/17.4 Safari/605.1.15',
];
const ZONES = [
  'Pacific/Honolulu',
  'America/Los_Angeles',
  'America/Chicago',
  'America/New_York',
  'America/Sao_Paulo',
  'Europe/London',
  'Europe/Berlin',
  'Asia/Dubai',
  'Asia/Kolkata',
  'Asia/Singapore',
  'Asia/Tokyo',
  'Australia/Sydney',
  'Pacific/Auckland',
];

/** An IANA zone where it is now early afternoon: SMS may only go out 08:00–21:00 local time. */
export function daytimeZone(now = new Date()): string {
  const hourIn = (zone: string) =>
    Number(new Intl.DateTimeFormat('en-US', { timeZone: zone, hour: 'numeric', hourCycle: 'h23' }).format(now));
  return ZONES.reduce((best, z) => (Math.abs(hourIn(z) - 14) < Math.abs(hourIn(best) - 14) ? z : best));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class ShopperSimulator {
  readonly stats: SimulatorStats = {
    shoppers: 0,
    checkouts: 0,
    abandoned: 0,
    boughtDirect: 0,
    boughtOrganic: 0,
    boughtAfterClick: 0,
    boughtWithCode: 0,
    emailsReceived: 0,
    smsReceived: 0,
    opens: 0,
    clicks: 0,
    unsubscribes: 0,
    stopReplies: 0,
    webhooks: 0,
    webhookFailures: 0,
    historicOrders: 0,
    errors: 0,
  };
  readonly shops: SimShop[] = [];
  readonly journeys: SimJourney[] = [];
  private readonly random: Random;
  private readonly byEmail = new Map<string, SimCustomer>();
  private readonly byPhone = new Map<string, SimCustomer>();
  private readonly timers: { due: number; run: () => Promise<void> }[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private mailSeen = 0;
  private smsSeen = 0;
  private stopped = false;
  private nextOrderId = 7_000_001;
  private phoneSeq = 1000;
  private readonly log: (line: string) => void;

  constructor(private readonly options: SimulatorOptions) {
    this.random = new Random(options.seed ?? 20261122);
    this.log = options.log ?? (() => undefined);
  }

  private get a(): number {
    return this.options.abandonAfterMs;
  }

  // ------------------------------------------------------------------ setup

  /** Registers the shops (settings included), seeds customers and their order history. */
  async setup(): Promise<void> {
    const zone = daytimeZone();
    for (const spec of this.options.shops ?? DEFAULT_SHOPS) {
      const shop = await this.register(spec, zone);
      this.shops.push(shop);
      const count = this.options.customersPerShop ?? 30;
      for (let i = 0; i < count; i++) this.addCustomer(shop, i, count);
      await this.seedHistory(shop);
      this.log(
        `shop ${spec.name} (${spec.platform}) registered as ${shop.id}, ${count} customers, time zone ${zone}` +
          (shop.connection !== undefined ? `, ${shop.connection}` : ''),
      );
    }
  }

  private async register(spec: SimShopSpec, timezone: string): Promise<SimShop> {
    const stores = this.options.sandbox.stores;
    const platform = spec.platform;
    const domain =
      platform === 'bigcommerce'
        ? SANDBOX_BIGCOMMERCE_STORE_HASH
        : (spec.domain ?? `${spec.name.toLowerCase().replace(/[^a-z0-9]+/g, '-')}.example`);
    const secret =
      platform === 'bigcommerce'
        ? `whsec_${Buffer.from(`sandbox-${domain}-webhook-secret`).toString('base64')}`
        : `sandbox-${platform}-${domain.replace(/[^a-z0-9]/gi, '')}-secret`;
    const apiUrl = stores.urls[platform];
    const currency = spec.currency ?? 'USD';
    const res = await this.api('POST', '/api/shops', {
      platform,
      shopDomain: domain,
      webhookSecret: secret,
      apiUrl,
      apiToken: stores.credentials[platform],
      currency,
      timezone,
    });
    let id: string;
    let cartflowsPath: string | undefined;
    let connection: string | undefined;
    if (res.status === 201) {
      const body = res.body as {
        id: string;
        cartflowsUrl?: string;
        connection?: { subscriptions: { state: string }[]; changed?: { created: string[] } };
      };
      id = body.id;
      const subs = body.connection?.subscriptions ?? [];
      const ok = subs.filter((s) => s.state === 'ok').length;
      if (ok > 0)
        connection = `${ok} webhook subscriptions ok (${body.connection?.changed?.created.length ?? 0} created)`;
      if (body.cartflowsUrl !== undefined) cartflowsPath = new URL(body.cartflowsUrl).pathname;
    } else if (res.status === 409) {
      if (platform === 'woocommerce') {
        throw new Error(
          `shop ${domain} is already registered and its CartFlows URL is only returned once: use a fresh data directory`,
        );
      }
      const list = await this.api('GET', '/api/shops');
      const found = (list.body as { id: string; platform: string; shopDomain: string }[]).find(
        (s) =>
          s.platform === platform && (s.shopDomain === domain || s.shopDomain === domain.replace(/^https?:\/\//, '')),
      );
      if (found === undefined) throw new Error(`shop ${domain}: 409 but not in GET /api/shops`);
      id = found.id;
    } else {
      throw new Error(`POST /api/shops (${platform}) answered ${res.status}: ${JSON.stringify(res.body)}`);
    }
    const storefront =
      platform === 'bigcommerce'
        ? `store-${domain}.mybigcommerce.com`
        : new URL(`https://${domain.replace(/^https?:\/\//, '')}`).host;
    const settings = await this.api('PUT', `/api/shops/${id}/settings`, {
      mode: 'live',
      storeName: spec.name,
      postalAddress: this.options.postalAddress ?? `${spec.name}, 1 Sandbox Street, Springfield 12345, USA`,
      domainAliases: [storefront],
      // CartFlows and BigCommerce guests carry no consent; their merchants collect it at checkout.
      emailConsentPolicy: platform === 'shopify' ? 'subscribers-only' : 'unless-opted-out',
      quietHours: { email: null },
    });
    if (settings.status !== 200) {
      throw new Error(`PUT settings (${platform}) answered ${settings.status}: ${JSON.stringify(settings.body)}`);
    }
    return {
      spec,
      id,
      platform,
      domain,
      secret,
      ...(cartflowsPath !== undefined ? { cartflowsPath } : {}),
      ...(connection !== undefined ? { connection } : {}),
      currency,
      timezone,
      apiUrl,
      storefront,
      customers: [],
    };
  }

  private addCustomer(shop: SimShop, i: number, count: number): void {
    const kind: CustomerKind = i < count * 0.55 ? 'new' : i < count * 0.85 ? 'returning' : 'vip';
    const firstName = FIRST[i % FIRST.length] as string;
    const lastName = LAST[(i * 7 + shop.platform.length) % LAST.length] as string;
    const slug = shop.spec.name.toLowerCase().replace(/[^a-z0-9]+/g, '');
    const email = `${firstName}.${lastName}.${i}@${slug}.example`.toLowerCase();
    const hasPhone = this.random.chance(0.6);
    const phone = hasPhone ? `+1415555${String(this.phoneSeq++).padStart(4, '0')}` : undefined;
    const customer: SimCustomer = {
      shop,
      kind,
      firstName,
      lastName,
      email,
      ...(phone !== undefined ? { phone } : {}),
      emailConsent: this.random.chance(0.9),
      smsConsent: hasPhone && this.random.chance(0.7),
      platformId: String(shop.platform === 'shopify' ? 6_100_000_000 + i : 100 + i),
      busyUntil: 0,
    };
    shop.customers.push(customer);
    this.byEmail.set(email, customer);
    if (phone !== undefined) this.byPhone.set(phone, customer);
  }

  /** Returning customers have one earlier order, VIPs two large ones (≥ 1000 spent); BigCommerce customers exist in the store. */
  private async seedHistory(shop: SimShop): Promise<void> {
    const catalogue = this.options.sandbox.stores.catalogue.all();
    for (const c of shop.customers) {
      if (shop.platform === 'bigcommerce') {
        this.options.sandbox.stores.seedBigCommerce({
          customers: {
            [c.platformId]: {
              id: Number(c.platformId),
              email: c.email,
              first_name: c.firstName,
              last_name: c.lastName,
              phone: c.phone ?? '',
              accepts_product_review_abandoned_cart_emails: c.emailConsent,
              date_created: new Date(Date.now() - 400 * 86_400_000).toISOString(),
              date_modified: new Date(Date.now() - 10 * 86_400_000).toISOString(),
            },
          },
        });
        await this.send(
          bigCommerceDelivery(
            shop,
            'store/customer/created',
            { type: 'customer', id: Number(c.platformId) },
            this.random,
          ),
        );
      }
      const orders = c.kind === 'new' ? 0 : c.kind === 'returning' ? 1 : 2;
      for (let k = 0; k < orders; k++) {
        const item = c.kind === 'vip' ? catalogue.find((e) => e.productId === '5005') : this.random.pick(catalogue);
        if (item === undefined) continue;
        const quantity = c.kind === 'vip' ? 2 : 1;
        const lines: SimLine[] = [
          {
            productId: item.productId,
            variantId: item.variantId ?? item.productId,
            title: item.title,
            sku: item.sku,
            price: item.price,
            quantity,
          },
        ];
        const placedAt = new Date(Date.now() - this.random.int(40, 300) * 86_400_000);
        await this.sendOrder(shop, c, lines, { placedAt, total: lineTotal(lines) });
        this.stats.historicOrders += 1;
      }
    }
  }

  // ------------------------------------------------------------------ run

  /** Runs until `durationMs + drainMs` have passed (or `stop()`); returns the statistics. */
  async run(): Promise<SimulatorStats> {
    if (this.shops.length === 0) await this.setup();
    const start = Date.now();
    const arrivalsEnd = start + this.options.durationMs;
    const end = arrivalsEnd + (this.options.drainMs ?? 0);
    const every = 60_000 / Math.max(1, this.options.shoppersPerMinute ?? 40);
    const max = this.options.maxShoppers ?? 400;
    let nextArrival = start;
    while (!this.stopped && Date.now() < end) {
      const now = Date.now();
      while (now >= nextArrival && now < arrivalsEnd && this.stats.shoppers < max) {
        this.arrive();
        nextArrival += every * this.random.between(0.5, 1.5);
      }
      this.readMail();
      this.readSms();
      this.timers.sort((x, y) => x.due - y.due);
      while (this.timers.length > 0 && (this.timers[0] as { due: number }).due <= now) {
        const t = this.timers.shift() as { run: () => Promise<void> };
        this.track(t.run());
      }
      await sleep(100);
    }
    this.stopped = true;
    await Promise.allSettled([...this.inFlight]);
    await Promise.allSettled(this.journeys.map((j) => j.chain));
    return this.stats;
  }

  stop(): void {
    this.stopped = true;
  }

  private track(p: Promise<void>): void {
    const guarded = p.catch((err: unknown) => {
      this.stats.errors += 1;
      this.log(`simulator error: ${err instanceof Error ? err.message : String(err)}`);
    });
    this.inFlight.add(guarded);
    void guarded.finally(() => this.inFlight.delete(guarded));
  }

  private later(delayMs: number, run: () => Promise<void>): void {
    this.timers.push({ due: Date.now() + delayMs, run });
  }

  /** Runs `step` after the journey's previous steps (its webhooks arrive in order). */
  private inOrder(j: SimJourney, step: () => Promise<void>): Promise<void> {
    j.chain = j.chain.then(() => (this.stopped ? undefined : step()));
    return j.chain;
  }

  // ------------------------------------------------------------------ shoppers

  private arrive(): void {
    const shop = this.random.pick(this.shops);
    const now = Date.now();
    const idle = shop.customers.filter((c) => c.busyUntil <= now);
    if (idle.length === 0) return;
    const customer = this.random.pick(idle);
    const catalogue = this.options.sandbox.stores.catalogue.all().filter((e) => e.variantId !== undefined);
    const lines: SimLine[] = [];
    const count = customer.kind === 'vip' ? this.random.int(2, 3) : this.random.int(1, 2);
    for (let k = 0; k < count; k++) {
      const e = this.random.pick(catalogue);
      if (lines.some((l) => l.productId === e.productId)) continue;
      lines.push({
        productId: e.productId,
        variantId: e.variantId as string,
        title: e.title,
        sku: e.sku,
        price: e.salePrice !== undefined && new Decimal(e.salePrice).lt(e.price) ? e.salePrice : e.price,
        quantity: this.random.chance(0.2) ? 2 : 1,
      });
    }
    const id = this.journeys.length + 1;
    const token = this.random.hex(32);
    const cartId =
      shop.platform === 'shopify' ? token : shop.platform === 'bigcommerce' ? this.random.uuid() : `wcf:${token}`;
    const j: SimJourney = {
      id,
      shop,
      customer,
      cartId,
      recoveryId: `recovery-${shop.id}-${cartId}`,
      token,
      lines,
      total: lineTotal(lines),
      startedAt: now,
      abandoned: false,
      buying: false,
      codesSeen: [],
      emails: 0,
      sms: 0,
      chain: Promise.resolve(),
    };
    customer.journey = j;
    customer.busyUntil = now + this.a * 8;
    this.journeys.push(j);
    this.stats.shoppers += 1;

    this.track(this.inOrder(j, () => this.cartEvent(j)));
    const checkoutIn = this.a * this.random.between(0.1, 0.25);
    this.later(checkoutIn, () =>
      this.inOrder(j, async () => {
        await this.checkoutEvent(j);
        j.checkoutAt = Date.now();
        this.stats.checkouts += 1;
        const abandonRate = this.options.abandonRate ?? 0.7;
        if (!this.random.chance(abandonRate)) {
          this.later(this.a * this.random.between(0.15, 0.5), () => this.buy(j, 'direct'));
          return;
        }
        j.abandoned = true;
        this.stats.abandoned += 1;
        if (this.random.chance(this.options.organicReturnRate ?? 0.12)) {
          this.later(this.a * this.random.between(0.6, 4), () => this.buy(j, 'organic'));
        }
      }),
    );
  }

  private checkoutUrl(j: SimJourney): string {
    const host = j.shop.storefront;
    if (j.shop.platform === 'shopify')
      return `https://${host}/checkouts/${j.token}/recover?key=${j.token.slice(0, 12)}`;
    if (j.shop.platform === 'bigcommerce') return `https://${host}/cart.php?action=load&id=${j.cartId}`;
    return `https://${host}/checkout/?wcf_ac_token=${j.token}`;
  }

  private async cartEvent(j: SimJourney): Promise<void> {
    const at = new Date().toISOString();
    if (j.shop.platform === 'shopify') {
      await this.send(
        shopifyDelivery(
          j.shop,
          'carts/create',
          {
            id: j.token,
            token: j.token,
            line_items: j.lines.map((l, i) => shopifyLine(l, i)),
            note: null,
            updated_at: at,
            created_at: at,
          },
          this.random,
        ),
      );
    } else if (j.shop.platform === 'bigcommerce') {
      this.seedBigCommerceCart(j, false);
      await this.send(bigCommerceDelivery(j.shop, 'store/cart/created', { type: 'cart', id: j.cartId }, this.random));
    }
    // WooCommerce: the CartFlows plugin reports the cart once the shopper reaches the checkout.
  }

  private async checkoutEvent(j: SimJourney): Promise<void> {
    const c = j.customer;
    const at = new Date().toISOString();
    if (j.shop.platform === 'shopify') {
      await this.send(
        shopifyDelivery(
          j.shop,
          'checkouts/create',
          {
            id: Number(`9${String(j.id).padStart(9, '0')}`),
            token: `ck-${j.token}`,
            cart_token: j.token,
            email: c.email,
            phone: c.phone ?? null,
            buyer_accepts_marketing: c.emailConsent,
            buyer_accepts_sms_marketing: c.smsConsent,
            created_at: new Date(j.startedAt).toISOString(),
            updated_at: at,
            completed_at: null,
            currency: j.shop.currency,
            presentment_currency: j.shop.currency,
            subtotal_price: j.total,
            total_price: j.total,
            total_tax: '0.00',
            landing_site: `/products/${j.lines[0]?.sku.toLowerCase() ?? 'home'}?utm_source=search`,
            referring_site: 'https://search.example/',
            abandoned_checkout_url: this.checkoutUrl(j),
            source_name: 'web',
            customer_locale: 'en-US',
            client_details: { user_agent: this.random.pick(AGENTS) },
            line_items: j.lines.map((l, i) => shopifyLine(l, i)),
            customer: {
              id: Number(c.platformId),
              email: c.email,
              first_name: c.firstName,
              last_name: c.lastName,
            },
            billing_address: { first_name: c.firstName, last_name: c.lastName, city: 'Springfield', country: 'US' },
          },
          this.random,
        ),
      );
    } else if (j.shop.platform === 'bigcommerce') {
      this.seedBigCommerceCart(j, true);
      await this.send(bigCommerceDelivery(j.shop, 'store/cart/updated', { type: 'cart', id: j.cartId }, this.random));
    } else {
      await this.send(cartflowsDelivery(j.shop, this.cartflowsFields(j, 'normal')));
    }
  }

  private cartflowsFields(j: SimJourney, status: string): Record<string, string> {
    const c = j.customer;
    return {
      first_name: c.firstName,
      last_name: c.lastName,
      email: c.email,
      phone_number: c.phone ?? '',
      checkout_url: this.checkoutUrl(j),
      product_names: j.lines.map((l) => l.title).join(', '),
      coupon_code: '',
      order_status: status,
      cart_total: j.total,
    };
  }

  /** The cart as BigCommerce's `GET /v3/carts/{id}` returns it (email known once the shopper is at checkout). */
  private seedBigCommerceCart(j: SimJourney, withEmail: boolean): void {
    const c = j.customer;
    const now = new Date().toISOString();
    this.options.sandbox.stores.seedBigCommerce({
      carts: {
        [j.cartId]: {
          data: {
            id: j.cartId,
            customer_id: Number(c.platformId),
            email: withEmail ? c.email : '',
            currency: { code: j.shop.currency },
            base_amount: Number(j.total),
            cart_amount: Number(j.total),
            created_time: new Date(j.startedAt).toISOString(),
            updated_time: now,
            line_items: {
              physical_items: j.lines.map((l, i) => ({
                id: `li-${j.id}-${i}`,
                product_id: Number(l.productId),
                variant_id: Number(l.variantId),
                sku: l.sku,
                name: l.title,
                quantity: l.quantity,
                list_price: Number(l.price),
                sale_price: Number(l.price),
                url: `https://${j.shop.storefront}/products/${l.sku.toLowerCase()}/`,
              })),
              digital_items: [],
              custom_items: [],
            },
            redirect_urls: { checkout_url: this.checkoutUrl(j) },
          },
        },
      },
    });
  }

  // ------------------------------------------------------------------ buying

  private buy(j: SimJourney, via: Outcome, code?: string): Promise<void> {
    if (j.bought !== undefined || j.buying) return Promise.resolve();
    j.buying = true;
    return this.inOrder(j, async () => {
      const percent = code !== undefined ? this.percentOf(j.shop, code) : 0;
      const subtotal = new Decimal(j.total);
      const discount = subtotal.mul(percent).div(100).toDecimalPlaces(2);
      const total = subtotal.minus(discount).toFixed(2);
      const placed = await this.sendOrder(j.shop, j.customer, j.lines, {
        placedAt: new Date(),
        total,
        discount: discount.toFixed(2),
        journey: j,
        ...(code !== undefined && percent > 0 ? { code } : {}),
      });
      if (placed === undefined) {
        j.buying = false;
        return;
      }
      j.bought = {
        via,
        orderId: placed,
        ...(code !== undefined && percent > 0 ? { code } : {}),
        ackAt: Date.now(),
        revenue: total,
      };
      j.customer.busyUntil = Date.now() + this.a;
      if (via === 'direct') this.stats.boughtDirect += 1;
      else if (via === 'organic') this.stats.boughtOrganic += 1;
      else this.stats.boughtAfterClick += 1;
      if (j.bought.code !== undefined) this.stats.boughtWithCode += 1;
      this.log(
        `#${j.id} ${j.customer.firstName} bought at ${j.shop.spec.name} (${via}${j.bought.code ? `, code ${j.bought.code}` : ''}): ${total} ${j.shop.currency}`,
      );
    });
  }

  /** The percentage of a code the store stand-in created (0 when unknown or used up). */
  private percentOf(shop: SimShop, code: string): number {
    const state = this.options.sandbox.stores.state;
    if (shop.platform === 'shopify') {
      for (const d of state.shopify.discounts.values()) {
        if (d.code.toUpperCase() !== code.toUpperCase()) continue;
        const pct = Number(
          (d.input as { customerGets?: { value?: { percentage?: unknown } } }).customerGets?.value?.percentage,
        );
        return Number.isFinite(pct) ? Math.round(pct * 100) : 0;
      }
      return 0;
    }
    if (shop.platform === 'bigcommerce') {
      const promoted = state.bigcommerce.promotionCodes.get(code.toLowerCase());
      const c =
        promoted !== undefined
          ? promotionAsCoupon(state.bigcommerce, promoted)
          : state.bigcommerce.coupons.get(code.toLowerCase());
      return c !== undefined && Number.isFinite(Number(c['amount'])) ? Number(c['amount']) : 0;
    }
    const c = state.woocommerce.coupons.get(code.toLowerCase());
    return c !== undefined && Number.isFinite(Number(c['amount'])) ? Number(c['amount']) : 0;
  }

  /**
   * Places the order in the store stand-in and sends the platform's order webhook(s). Returns the
   * order id, or undefined when the store refused it (out of stock).
   */
  private async sendOrder(
    shop: SimShop,
    c: SimCustomer,
    lines: SimLine[],
    o: { placedAt: Date; total: string; discount?: string; code?: string; journey?: SimJourney },
  ): Promise<string | undefined> {
    const stores = this.options.sandbox.stores;
    const historic = o.journey === undefined;
    const j = o.journey;
    if (shop.platform === 'shopify') {
      // A new order goes through the store's REST API (stock taken, code checked and redeemed).
      let orderId = String(5_500_000_000_000 + this.nextOrderId++);
      if (!historic) {
        const created = await this.storeCreateOrder(
          `${stores.urls.shopify}/orders.json`,
          { 'x-shopify-access-token': stores.credentials.shopify },
          (withCode) => ({
            order: {
              email: c.email,
              line_items: lines.map((l) => ({ variant_id: Number(l.variantId), quantity: l.quantity })),
              discount_codes:
                withCode && o.code !== undefined
                  ? [{ code: o.code, amount: o.discount ?? '0.00', type: 'fixed_amount' }]
                  : [],
            },
          }),
          o.code !== undefined,
        );
        const order = created?.['order'] as Record<string, unknown> | undefined;
        if (order === undefined) return undefined;
        orderId = String(order['id']);
      }
      const at = o.placedAt.toISOString();
      await this.send(
        shopifyDelivery(
          shop,
          'orders/create',
          {
            id: Number(orderId),
            ...(j !== undefined ? { checkout_token: `ck-${j.token}`, cart_token: j.token } : {}),
            email: c.email,
            created_at: at,
            updated_at: at,
            processed_at: at,
            currency: shop.currency,
            presentment_currency: shop.currency,
            subtotal_price: lineTotal(lines),
            total_price: o.total,
            total_discounts: o.discount ?? '0.00',
            financial_status: 'paid',
            discount_codes: o.code !== undefined ? [{ code: o.code, amount: o.discount, type: 'percentage' }] : [],
            landing_site: `/products/${lines[0]?.sku.toLowerCase() ?? 'home'}`,
            line_items: lines.map((l, i) => ({ ...shopifyLine(l, i), id: i + 1 })),
            customer: { id: Number(c.platformId), email: c.email, first_name: c.firstName, last_name: c.lastName },
          },
          this.random,
        ),
      );
      return orderId;
    }
    if (shop.platform === 'bigcommerce') {
      const date = rfc2822(o.placedAt);
      let orderId: string;
      if (!historic) {
        // A new order goes through the store's REST API (stock taken, coupon checked and redeemed).
        const created = await this.storeCreateOrder(
          `${stores.urls.bigcommerce}/v2/orders`,
          { 'x-auth-token': stores.credentials.bigcommerce },
          (withCode) => ({
            ...(j !== undefined ? { cart_id: j.cartId } : {}),
            customer_id: Number(c.platformId),
            status_id: 11,
            status: 'Awaiting Fulfillment',
            payment_status: 'captured',
            currency_code: shop.currency,
            default_currency_code: shop.currency,
            ip_address: '198.51.100.7',
            date_created: date,
            discount_amount: withCode ? (o.discount ?? '0.00') : '0.00',
            ...(withCode && o.code !== undefined ? { coupon_code: o.code } : {}),
            billing_address: {
              first_name: c.firstName,
              last_name: c.lastName,
              email: c.email,
              country: 'United States',
            },
            products: lines.map((l) => ({
              product_id: Number(l.productId),
              variant_id: Number(l.variantId),
              quantity: l.quantity,
            })),
          }),
          o.code !== undefined,
        );
        if (created === undefined) return undefined;
        orderId = String(created['id']);
      } else {
        orderId = String(this.nextOrderId++);
      }
      if (historic)
        stores.seedBigCommerce({
          orders: {
            [orderId]: {
              order: {
                id: Number(orderId),
                ...(j !== undefined ? { cart_id: j.cartId } : {}),
                customer_id: Number(c.platformId),
                status: 'Awaiting Fulfillment',
                payment_status: 'captured',
                currency_code: shop.currency,
                default_currency_code: shop.currency,
                subtotal_ex_tax: lineTotal(lines),
                total_inc_tax: o.total,
                discount_amount: o.discount ?? '0.0000',
                date_created: date,
                date_modified: date,
                ip_address: '198.51.100.7',
                billing_address: {
                  first_name: c.firstName,
                  last_name: c.lastName,
                  email: c.email,
                  country: 'United States',
                },
              },
              products: lines.map((l, i) => ({
                id: i + 1,
                product_id: Number(l.productId),
                variant_id: Number(l.variantId),
                sku: l.sku,
                name: l.title,
                quantity: l.quantity,
                base_price: l.price,
              })),
            },
          },
        });
      await this.send(
        bigCommerceDelivery(shop, 'store/order/created', { type: 'order', id: Number(orderId) }, this.random),
      );
      if (j !== undefined) {
        await this.send(
          bigCommerceDelivery(
            shop,
            'store/cart/converted',
            { type: 'cart', id: j.cartId, orderId: Number(orderId) },
            this.random,
          ),
        );
      }
      return orderId;
    }
    // WooCommerce: a new order goes through the store's REST API (stock taken, coupon checked and redeemed).
    let resource: Record<string, unknown>;
    if (historic) {
      resource = {
        id: this.nextOrderId++,
        line_items: lines.map((l, i) => ({
          id: i + 1,
          name: l.title,
          product_id: Number(l.productId),
          variation_id: Number(l.variantId),
          quantity: l.quantity,
          price: l.price,
          subtotal: new Decimal(l.price).mul(l.quantity).toFixed(2),
          sku: l.sku,
        })),
        coupon_lines: [],
      };
    } else {
      const created = await this.wooCreateOrder(c, lines, o.code);
      if (created === undefined) return undefined;
      resource = created;
    }
    const gmt = wooGmt(o.placedAt);
    const order = {
      ...resource,
      status: 'processing',
      currency: shop.currency,
      customer_id: Number(c.platformId),
      total: o.total,
      discount_total: o.discount ?? '0.00',
      date_created_gmt: gmt,
      date_modified_gmt: gmt,
      date_paid_gmt: gmt,
      billing: { first_name: c.firstName, last_name: c.lastName, email: c.email, phone: c.phone ?? '' },
    };
    await this.send(wooDelivery(shop, 'order.created', order, this.random));
    if (j !== undefined) await this.send(cartflowsDelivery(shop, this.cartflowsFields(j, 'completed')));
    return String(resource['id']);
  }

  /**
   * Creates an order through a store stand-in's order API; a refused code (unknown, used up) means
   * the shopper pays the full price. Undefined when the store refused the order (out of stock).
   */
  private async storeCreateOrder(
    url: string,
    auth: Record<string, string>,
    body: (withCode: boolean) => unknown,
    hasCode: boolean,
  ): Promise<Record<string, unknown> | undefined> {
    const attempt = async (withCode: boolean) => {
      const res = await fetch(url, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify(body(withCode)),
        signal: AbortSignal.timeout(10_000),
      });
      const text = await res.text();
      let parsed: unknown;
      try {
        parsed = text === '' ? undefined : JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      return { status: res.status, body: parsed, text };
    };
    let res = await attempt(true);
    if (res.status === 422 && hasCode && /code/i.test(res.text)) res = await attempt(false);
    if (res.status !== 201 || typeof res.body !== 'object' || res.body === null) return undefined;
    return res.body as Record<string, unknown>;
  }

  private async wooCreateOrder(
    c: SimCustomer,
    lines: SimLine[],
    code: string | undefined,
  ): Promise<Record<string, unknown> | undefined> {
    const stores = this.options.sandbox.stores;
    const auth = `Basic ${Buffer.from(stores.credentials.woocommerce).toString('base64')}`;
    const attempt = async (withCode: boolean) => {
      const res = await fetch(`${stores.urls.woocommerce}/wp-json/wc/v3/orders`, {
        method: 'POST',
        headers: { authorization: auth, 'content-type': 'application/json' },
        body: JSON.stringify({
          status: 'processing',
          currency: 'USD',
          set_paid: true,
          billing: { first_name: c.firstName, last_name: c.lastName, email: c.email },
          line_items: lines.map((l) => ({
            product_id: Number(l.productId),
            variation_id: Number(l.variantId),
            quantity: l.quantity,
          })),
          coupon_lines: withCode && code !== undefined ? [{ code }] : [],
        }),
        signal: AbortSignal.timeout(10_000),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    let res = await attempt(true);
    // A refused coupon (expired, used): the shopper pays the full price.
    if (res.status === 400 && code !== undefined && String(res.body['code']).includes('coupon'))
      res = await attempt(false);
    return res.status === 201 ? res.body : undefined;
  }

  // ------------------------------------------------------------------ messages

  private readMail(): void {
    const mail = this.options.sandbox.providers.stores.mail;
    while (this.mailSeen < mail.length) {
      const m = mail[this.mailSeen++];
      if (m === undefined) continue;
      const customer = this.byEmail.get((m.to[0] ?? '').toLowerCase());
      const j = customer?.journey;
      this.stats.emailsReceived += 1;
      if (j === undefined || this.stopped) continue;
      j.emails += 1;
      const { text, html } = mailBodies(m.raw);
      const links = trackedLinks(html !== '' ? html : text);
      const codes = discountCodesIn(`${text}\n${html}`);
      j.codesSeen.push(...codes);
      const unsubscribe = /<(https?:[^>]+\/u\/[^>]+)>/.exec(m.headers['list-unsubscribe'] ?? '')?.[1];
      this.later(this.a * this.random.between(0.05, 0.3), async () => {
        if (j.bought !== undefined) return;
        const open = links.opens[0];
        if (open !== undefined && this.random.chance(0.6)) {
          await this.hit(open, 'GET');
          this.stats.opens += 1;
        }
        const click = links.clicks[0];
        const clickChance = codes.length > 0 ? 0.5 : 0.22;
        if (click !== undefined && this.random.chance(clickChance)) {
          const status = await this.hit(click, 'GET');
          this.stats.clicks += 1;
          if (status === 302 && this.random.chance(0.7)) {
            this.later(this.a * this.random.between(0.1, 0.3), () => this.buy(j, 'recovery-link', codes[0]));
          }
          return;
        }
        if (unsubscribe !== undefined && this.random.chance(0.04)) {
          await this.hit(unsubscribe, 'POST', 'List-Unsubscribe=One-Click');
          this.stats.unsubscribes += 1;
        }
      });
    }
  }

  private readSms(): void {
    const twilio = this.options.sandbox.providers.stores.twilio;
    while (this.smsSeen < twilio.messages.length) {
      const m = twilio.messages[this.smsSeen++];
      if (m === undefined) continue;
      const customer = this.byPhone.get(m.to);
      const j = customer?.journey;
      this.stats.smsReceived += 1;
      if (customer === undefined || j === undefined || this.stopped) continue;
      j.sms += 1;
      const click = trackedLinks(m.body).clicks[0];
      this.later(this.a * this.random.between(0.05, 0.3), async () => {
        if (j.bought !== undefined) return;
        if (this.random.chance(0.2)) {
          await this.replyStop(customer, m.from ?? '');
          return;
        }
        if (click !== undefined && this.random.chance(0.25)) {
          const status = await this.hit(click, 'GET');
          this.stats.clicks += 1;
          if (status === 302 && this.random.chance(0.6)) {
            this.later(this.a * this.random.between(0.1, 0.3), () => this.buy(j, 'recovery-link', j.codesSeen.at(-1)));
          }
        }
      });
    }
  }

  /**
   * STOP: Twilio blocks the number from then on (error 21610) and forwards the reply, signed, to
   * the appliance's inbound webhook (`POST /webhooks/twilio/inbound`).
   */
  private async replyStop(c: SimCustomer, to: string): Promise<void> {
    if (c.phone === undefined) return;
    this.options.sandbox.providers.stores.twilio.optOut(c.phone);
    this.stats.stopReplies += 1;
    const path = '/webhooks/twilio/inbound';
    const url = `${(this.options.publicUrl ?? this.options.applianceUrl).replace(/\/+$/, '')}${path}`;
    const creds = this.options.sandbox.providers.credentials;
    const params: Record<string, string> = {
      AccountSid: creds.twilioAccountSid,
      MessageSid: `SM${this.random.hex(32)}`,
      From: c.phone,
      To: to,
      Body: 'STOP',
      OptOutType: 'STOP',
    };
    let data = url;
    for (const k of Object.keys(params).sort()) data += k + params[k];
    const signature = createHmac('sha1', creds.twilioAuthToken).update(data, 'utf8').digest('base64');
    const res = await fetch(new URL(path, this.options.applianceUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature },
      body: new URLSearchParams(params).toString(),
      signal: AbortSignal.timeout(10_000),
    });
    await res.arrayBuffer();
    if (res.status !== 200) this.log(`STOP reply: the appliance answered ${res.status}`);
  }

  /** A shopper's browser on a link of a message (not followed: the storefront is not here). */
  private async hit(url: string, method: 'GET' | 'POST', form?: string): Promise<number> {
    const local = new URL(url);
    const target = new URL(local.pathname + local.search, this.options.applianceUrl);
    const res = await fetch(target, {
      method,
      redirect: 'manual',
      ...(form !== undefined ? { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form } : {}),
      signal: AbortSignal.timeout(10_000),
    });
    await res.arrayBuffer();
    return res.status;
  }

  // ------------------------------------------------------------------ HTTP to the appliance

  private async send(d: Delivery): Promise<void> {
    const res = await fetch(new URL(d.path, this.options.applianceUrl), {
      method: 'POST',
      headers: d.headers,
      body: d.body,
      signal: AbortSignal.timeout(15_000),
    });
    const text = await res.text();
    this.stats.webhooks += 1;
    if (res.status !== 200) {
      this.stats.webhookFailures += 1;
      this.log(`webhook ${d.path} answered ${res.status}: ${text.slice(0, 200)}`);
    }
  }

  private async api(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
    const res = await fetch(new URL(path, this.options.applianceUrl), {
      method,
      headers: {
        authorization: `Bearer ${this.options.adminToken}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(15_000),
    });
    const text = await res.text();
    return { status: res.status, body: text === '' ? undefined : (JSON.parse(text) as unknown) };
  }
}

function lineTotal(lines: readonly SimLine[]): string {
  return lines.reduce((sum, l) => sum.plus(new Decimal(l.price).mul(l.quantity)), new Decimal(0)).toFixed(2);
}

function shopifyLine(l: SimLine, i: number): Record<string, unknown> {
  return {
    key: `line-${i + 1}-${l.variantId}`,
    product_id: Number(l.productId),
    variant_id: Number(l.variantId),
    sku: l.sku,
    title: l.title,
    quantity: l.quantity,
    price: l.price,
    vendor: 'Sandbox',
  };
}
