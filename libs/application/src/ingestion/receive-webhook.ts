import { v5 as uuidv5 } from 'uuid';
import { event, EventTypes, type InboundCommand, type Platform, type WebhookEvent } from '@reclaim/domain';
import { deliveryStream } from '@reclaim/domain';
import type { EventStore } from '@reclaim/event-store';
import type { InspectOk, MappingResult, PlatformWebhookAdapter, RawWebhook, WebhookMetrics } from '@reclaim/ports';
import type { PersonalDataVault } from '@reclaim/privacy';
import type { ShopCredentials, ShopRegistry } from '../shops/shop-registry';
import { RECLAIM_ID_NAMESPACE } from './ids';

export type DeliveryStatus = 'accepted' | 'parked' | 'quarantined' | 'ping';

export type ReceiveOutcome =
  | {
      readonly status: 200;
      readonly body: { status: DeliveryStatus; deliveryId?: string; reason?: string; field?: string };
    }
  | { readonly status: 400 | 401 | 404 | 413 | 415; readonly body: { error: string; field?: string } };

/**
 * The ingestion use case: a raw delivery in, a durable record out, and the HTTP answer.
 *
 * identify from headers (415 content type, 400 missing shop header) → shop lookup (401) →
 * signature on the raw bytes (401, before anything is parsed: a flipped byte that breaks the
 * JSON is a 401, not a 400) → inspect, i.e. parse (400 naming the field) → map (400 when
 * structurally invalid, or an identifier holding NUL / an unpaired surrogate) → one append to `delivery-<platform>-<shop>-<deliveryId>` with
 * expected revision `no_stream` and a deterministic event id. A duplicate or replayed delivery
 * appends the same id at the same expected revision: idempotent, nothing stored twice (R17).
 * The answer is given only after the append committed; a database failure propagates (→ 503)
 * so the platform retries (R1, R6). The commands themselves are applied asynchronously by the
 * delivery processor from the stored record.
 */
export class ReceiveWebhook {
  constructor(
    private readonly deps: {
      readonly store: EventStore;
      readonly shops: ShopRegistry;
      readonly vault: PersonalDataVault;
      readonly adapters: Readonly<Record<Platform, PlatformWebhookAdapter>>;
      readonly metrics?: WebhookMetrics;
    },
  ) {}

  async receive(platform: Platform, raw: RawWebhook): Promise<ReceiveOutcome> {
    const adapter = this.deps.adapters[platform];
    // Headers only (415 for the content type, the claimed shop): nothing is parsed before the signature is checked.
    const claimed = adapter.identify(raw);
    if (!claimed.ok) return this.refuse(platform, 'unknown', claimed);
    if (claimed.ping === true) {
      const ping = adapter.inspect(raw);
      if (!ping.ok) return this.refuse(platform, 'unknown', ping);
      this.count(platform, ping.topic, 'ping');
      return { status: 200, body: { status: 'ping' } };
    }
    const shop = await this.deps.shops.findByDomain(platform, claimed.shopDomain);
    // Unknown shop and bad signature answer alike, so the endpoint does not reveal which shops exist (R18).
    if (!shop || !adapter.verify(raw, shop.webhookSecrets(raw.receivedAt), raw.receivedAt)) {
      return this.refuse(platform, claimed.topic ?? 'unknown', { status: 401, error: 'signature verification failed' });
    }
    const inspected = adapter.inspect(raw);
    if (!inspected.ok) return this.refuse(platform, 'unknown', inspected);
    // The parse must name the shop the signature was checked for.
    if (inspected.isPing === true || inspected.shopDomain !== claimed.shopDomain) {
      return this.refuse(platform, inspected.topic, { status: 401, error: 'signature verification failed' });
    }
    return this.record(shop, adapter.map(inspected, { shopCurrency: shop.currency }), inspected, raw);
  }

  private refuse(
    platform: Platform,
    topic: string,
    e: { readonly status: 400 | 401 | 413 | 415; readonly error: string; readonly field?: string },
  ): ReceiveOutcome {
    this.count(platform, topic, `rejected-${e.status}`);
    return { status: e.status, body: e.field === undefined ? { error: e.error } : { error: e.error, field: e.field } };
  }

  /**
   * A delivery posted to a shop's secret URL by a sender that cannot sign (the WooCommerce
   * CartFlows plugin): the URL authenticates it and names the shop; the platform adapter's
   * `secretUrl` inspects and maps it, then it is recorded like a verified one. An unknown token,
   * or a platform without such senders, answers 404.
   */
  async receiveAtSecretUrl(platform: Platform, token: string, raw: RawWebhook): Promise<ReceiveOutcome> {
    const secretUrl = this.deps.adapters[platform].secretUrl;
    const shop = secretUrl ? await this.deps.shops.findByCartflowsToken(token) : null;
    if (!secretUrl || !shop || shop.platform !== platform)
      return { status: 404, body: { error: 'unknown webhook URL' } };
    const inspected = secretUrl.inspect(raw, shop.shopDomain);
    if (!inspected.ok) return { status: inspected.status, body: { error: inspected.error, field: inspected.field } };
    return this.record(shop, secretUrl.map(inspected, { shopCurrency: shop.currency }), inspected, raw);
  }

  private async record(
    shop: ShopCredentials,
    mapping: MappingResult,
    inspected: InspectOk,
    raw: RawWebhook,
  ): Promise<ReceiveOutcome> {
    const platform = shop.platform;
    if (mapping.outcome === 'invalid') {
      this.count(platform, inspected.topic, 'rejected-400');
      return { status: 400, body: { error: mapping.reason, field: mapping.field } };
    }
    const ref = {
      platform,
      shopId: shop.id,
      topic: inspected.topic,
      deliveryId: inspected.deliveryId,
      apiVersion: inspected.apiVersion,
      receivedAt: raw.receivedAt.toISOString(),
    };
    const subject = mapping.outcome === 'commands' ? this.subjectOf(shop.id, mapping.commands) : 'shop';
    const payload = await this.deps.vault.seal(shop.id, subject, raw.body.toString('utf8'));

    let recorded: WebhookEvent;
    let status: DeliveryStatus;
    let reason: string | undefined;
    let field: string | undefined;
    switch (mapping.outcome) {
      case 'unknown-topic':
        recorded = event(EventTypes.WebhookParked, { ...ref, reason: 'unknown-topic', payload });
        status = 'parked';
        reason = 'unknown-topic';
        break;
      case 'quarantined':
        recorded = event(EventTypes.WebhookQuarantined, {
          ...ref,
          reason: mapping.reason,
          field: mapping.field,
          payload,
        });
        status = 'quarantined';
        reason = mapping.reason;
        field = mapping.field;
        break;
      default:
        recorded = event(EventTypes.WebhookReceived, { ...ref, payload, contentType: raw.contentType });
        status = 'accepted';
    }
    const stream = deliveryStream(platform, shop.id, inspected.deliveryId);
    await this.deps.store.append(
      stream,
      [
        {
          id: uuidv5(stream, RECLAIM_ID_NAMESPACE),
          type: recorded.type,
          schemaVersion: recorded.schemaVersion,
          data: recorded.data,
          metadata: { shopId: shop.id },
        },
      ],
      'no_stream',
    );
    this.count(platform, inspected.topic, status);
    return { status: 200, body: { status, deliveryId: inspected.deliveryId, reason, field } };
  }

  private subjectOf(shopId: string, commands: readonly InboundCommand[]): string {
    for (const c of commands) {
      const contact = 'contact' in c ? c.contact : undefined;
      const customer = 'customer' in c ? c.customer : undefined;
      if (contact?.email || contact?.phone || customer?.platformCustomerId) {
        return (
          this.deps.vault.subjectFor(shopId, {
            email: contact?.email,
            phone: contact?.phone,
            platformCustomerId: customer?.platformCustomerId,
          }) ?? 'shop'
        );
      }
    }
    return 'shop';
  }

  private count(platform: Platform, topic: string, outcome: string): void {
    this.deps.metrics?.delivery(platform, topic, outcome);
  }
}
