/**
 * SMS opt-outs (R26). A shopper who answers STOP (or whose number the provider reports as opted
 * out, Twilio 21610) gets `customer.consent-changed{channel: sms, state: unsubscribed}` on their
 * customer stream; the recovery feed then revokes SMS on every running recovery of the customer and
 * the pre-send checks refuse SMS to them from then on.
 *
 * An inbound reply names a phone number only, while customer streams are keyed by the e-mail when
 * there is one. So every SMS the engine sends first records which customer the number belongs to,
 * under the vault's keyed hash of the number (`t-…`, per shop): `engine.sms_recipients` never holds
 * the number itself. A reply is mapped back through that table, and to a customer keyed by the
 * phone itself when such a stream exists.
 */
import type { Pool } from 'pg';
import { customerDecider, customerStream, type ChangeMarketingConsentCommand } from '@reclaim/domain';
import type { EventStore } from '@reclaim/event-store';
import { runDecider } from '../../shared/run-decider';
import { readCustomer } from '../facts';

/** The vault's deterministic customer keys (`PersonalDataVault` satisfies it). */
export interface PhoneKeying {
  customerKeysFor(shopId: string, ids: { phone?: string }): string[];
}

/** Every registered shop (`ShopRegistry` satisfies it). */
export interface ShopLister {
  list(): Promise<readonly { readonly id: string; readonly platform: string }[]>;
}

export interface SmsOptOutRequest {
  readonly shopId: string;
  readonly customerKey: string;
  readonly at: Date;
  /** Recorded as the consent source, e.g. `twilio:stop-reply`, `twilio:21610`. */
  readonly source: string;
  /** Same causation, same event: a repeated webhook or retry records nothing new. */
  readonly causationId: string;
}

export interface SmsOptOutResult {
  /** Customers (across shops) the number belongs to. */
  readonly customers: number;
  /** Customers whose opt-out was recorded now (0 when all were already opted out). */
  readonly recorded: number;
}

/** What the effect runner needs: remember who is texted, record an opt-out reported by a send. */
export interface SmsOptOutPort {
  rememberRecipient(shopId: string, phone: string, customerKey: string, at: Date): Promise<void>;
  optOutCustomer(request: SmsOptOutRequest): Promise<boolean>;
}

export class SmsOptOuts implements SmsOptOutPort {
  constructor(
    private readonly deps: {
      readonly pool: Pool;
      readonly store: EventStore;
      readonly shops: ShopLister;
      readonly keys: PhoneKeying;
    },
  ) {}

  private phoneKey(shopId: string, phone: string): string | undefined {
    return this.deps.keys.customerKeysFor(shopId, { phone }).find((k) => k.startsWith('t-'));
  }

  async rememberRecipient(shopId: string, phone: string, customerKey: string, at: Date): Promise<void> {
    const phoneKey = this.phoneKey(shopId, phone);
    if (phoneKey === undefined) return;
    await this.deps.pool.query(
      `INSERT INTO engine.sms_recipients (shop_id, phone_key, customer_key, last_sent_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (shop_id, phone_key, customer_key) DO UPDATE
         SET last_sent_at = GREATEST(engine.sms_recipients.last_sent_at, EXCLUDED.last_sent_at)`,
      [shopId, phoneKey, customerKey, at],
    );
  }

  /** Records the opt-out on one customer stream; false when they were already opted out (idempotent). */
  async optOutCustomer(request: SmsOptOutRequest): Promise<boolean> {
    const customer = await readCustomer(this.deps.store, request.shopId, request.customerKey);
    if (customer.status === 'redacted' || customer.consent.sms?.state === 'unsubscribed') return false;
    const platform = customer.platform ?? (await this.platformOf(request.shopId));
    if (platform === undefined) return false;
    const at = request.at.toISOString();
    const command: ChangeMarketingConsentCommand = {
      type: 'ChangeMarketingConsent',
      shopId: request.shopId,
      customerKey: request.customerKey,
      causationId: request.causationId,
      receivedAt: at,
      platform,
      platformUpdatedAt: at,
      customer: {},
      reach: { email: false, sms: false },
      channel: 'sms',
      consent: { state: 'unsubscribed', updatedAt: at, source: request.source },
    };
    const events = await runDecider(
      this.deps.store,
      customerStream(request.shopId, request.customerKey),
      customerDecider,
      command,
      { causationId: request.causationId, metadata: { shopId: request.shopId } },
    );
    return events.length > 0;
  }

  /**
   * A STOP-family reply from `phone` (E.164): the opt-out is recorded for every customer of every
   * shop the number was texted for, and for a customer keyed by the number itself.
   */
  async optOutPhone(phone: string, at: Date, source: string, causationId: string): Promise<SmsOptOutResult> {
    const targets = await this.customersOfPhone(phone);
    let recorded = 0;
    for (const t of targets) {
      const fresh = await this.optOutCustomer({
        shopId: t.shopId,
        customerKey: t.customerKey,
        at,
        source,
        causationId: `${causationId}:${t.customerKey}`,
      });
      if (fresh) recorded++;
    }
    return { customers: targets.length, recorded };
  }

  /** The customers (of every shop) the number `phone` (E.164) was texted for, or is the key of. */
  async customersOfPhone(phone: string): Promise<{ shopId: string; customerKey: string }[]> {
    const shops = await this.deps.shops.list();
    const keyed = shops.flatMap((shop) => {
      const phoneKey = this.phoneKey(shop.id, phone);
      return phoneKey !== undefined ? [{ shopId: shop.id, phoneKey }] : [];
    });
    if (keyed.length === 0) return [];
    const { rows } = await this.deps.pool.query<{ shop_id: string; customer_key: string }>(
      `SELECT DISTINCT r.shop_id, r.customer_key FROM engine.sms_recipients r
       JOIN unnest($1::text[], $2::text[]) AS k(shop_id, phone_key) ON r.shop_id = k.shop_id AND r.phone_key = k.phone_key`,
      [keyed.map((k) => k.shopId), keyed.map((k) => k.phoneKey)],
    );
    const targets = new Map(rows.map((r) => [`${r.shop_id}\u0000${r.customer_key}`, r]));
    for (const { shopId, phoneKey } of keyed) {
      const id = `${shopId}\u0000${phoneKey}`;
      if (targets.has(id)) continue;
      // A customer known by the phone alone has the phone key as stream key.
      const own = await readCustomer(this.deps.store, shopId, phoneKey);
      if (own.status === 'known') targets.set(id, { shop_id: shopId, customer_key: phoneKey });
    }
    return [...targets.values()].map((t) => ({ shopId: t.shop_id, customerKey: t.customer_key }));
  }

  private async platformOf(shopId: string): Promise<ChangeMarketingConsentCommand['platform'] | undefined> {
    const shop = (await this.deps.shops.list()).find((s) => s.id === shopId);
    return shop?.platform as ChangeMarketingConsentCommand['platform'] | undefined;
  }
}
