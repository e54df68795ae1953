import type { PoolClient } from 'pg';
import { v5 as uuidv5 } from 'uuid';
import {
  cartDecider,
  cartStream,
  customerDecider,
  customerStream,
  deliveryStream,
  event,
  EventTypes,
  InvalidCommandError,
  orderDecider,
  orderStream,
  reachFor,
  type ContactDetails,
  type CustomerReference,
  type InboundCommand,
  type WebhookReceivedData,
} from '@reclaim/domain';
import type { EventStore, RecordedEvent } from '@reclaim/event-store';
import type { PlatformWebhookAdapter } from '@reclaim/ports';
import type { PersonalDataVault } from '@reclaim/privacy';
import type { Platform } from '@reclaim/domain';
import { runDecider } from '../shared/run-decider';
import { redactShop } from '../shops/purge-shop';
import type { ShopCredentials, ShopRegistry } from '../shops/shop-registry';
import { RECLAIM_ID_NAMESPACE } from './ids';

export interface ProcessDeliveriesDeps {
  readonly store: EventStore;
  readonly shops: ShopRegistry;
  readonly vault: PersonalDataVault;
  readonly adapters: Readonly<Record<Platform, PlatformWebhookAdapter>>;
  readonly log?: { warn(obj: object, msg: string): void; info(obj: object, msg: string): void };
}

/**
 * A delivery may map to several commands on one stream (e.g. CartFlows: activity + abandoned).
 * Deciders drop a causation id they have seen, so each command gets its own: the delivery event
 * id for the first, a uuid-v5 derived from it and the index for the others (stable on replay).
 */
export function commandCausationId(deliveryEventId: string, index: number): string {
  return index === 0 ? deliveryEventId : uuidv5(`${deliveryEventId}|command|${index}`, RECLAIM_ID_NAMESPACE);
}

/**
 * The ordering key of a stored delivery: its shop and the subject its payload is sealed for (the
 * customer, or the shop). Deliveries of one key are applied in log order; a delivery that cannot be
 * applied holds back only its own key (poison isolation of the subscription runner).
 */
export function deliveryOrderingKey(e: RecordedEvent): string {
  const d = e.data as WebhookReceivedData;
  return `${d.shopId}|${d.payload.subject}`;
}

/** Checkpoint name of the delivery processor's subscription. */
export const DELIVERY_PROCESSOR = 'ingest.delivery-processor';

/**
 * Applies stored deliveries: `webhook.received` → the platform adapter's `resolve` (which loads
 * what a thin payload points at from the store API) → inbound commands → personal data sealed → cart / customer / order / shop deciders → events.
 *
 * Runs on the durable checkpointed subscription; a batch that fails is retried from the last
 * checkpoint. Re-applying a delivery is harmless: event ids derive from the delivery event id and
 * deciders ignore causation ids they have seen. Deliveries of different streams are applied
 * concurrently; deliveries that touch the same cart are applied in log order.
 */
export class DeliveryProcessor {
  constructor(private readonly deps: ProcessDeliveriesDeps) {}

  /** The subscription handler: the checkpoint is written by the runner after this resolves. */
  readonly handle = async (events: readonly RecordedEvent[], _tx: PoolClient): Promise<void> => {
    const lanes = new Map<string, RecordedEvent[]>();
    for (const e of events) {
      if (e.type !== EventTypes.WebhookReceived) continue;
      const lane = deliveryOrderingKey(e);
      lanes.set(lane, [...(lanes.get(lane) ?? []), e]);
    }
    await Promise.all(
      [...lanes.values()].map(async (lane) => {
        for (const e of lane) await this.apply(e);
      }),
    );
  };

  async apply(recorded: RecordedEvent): Promise<void> {
    const d = recorded.data as WebhookReceivedData;
    const shop = await this.deps.shops.get(d.shopId);
    if (!shop) {
      this.deps.log?.warn(
        { shopId: d.shopId, deliveryId: d.deliveryId },
        'delivery for a shop that no longer exists: skipped',
      );
      return;
    }
    const body = await this.deps.vault.open<string>(d.shopId, d.payload);
    if (body === null) return; // shredded (customer or shop redaction): nothing left to apply
    const mapping = await this.deps.adapters[d.platform].resolve(
      {
        topic: d.topic,
        deliveryId: d.deliveryId,
        apiVersion: d.apiVersion,
        contentType: d.contentType,
        body,
        receivedAt: new Date(d.receivedAt),
      },
      shop,
    );
    if (mapping.outcome !== 'commands') {
      if (mapping.outcome === 'quarantined' || mapping.outcome === 'invalid') {
        await this.quarantine(recorded, d, mapping.reason, mapping.field);
      }
      return;
    }
    try {
      for (const [i, command] of mapping.commands.entries())
        await this.dispatch(shop, recorded, command, commandCausationId(recorded.id, i));
    } catch (err) {
      if (err instanceof InvalidCommandError) {
        await this.quarantine(recorded, d, err.reason, err.field);
        return;
      }
      throw err;
    }
  }

  private async dispatch(
    shop: ShopCredentials,
    recorded: RecordedEvent,
    command: InboundCommand,
    causationId: string,
  ): Promise<void> {
    const ctx = { shopId: shop.id, causationId, receivedAt: (recorded.data as WebhookReceivedData).receivedAt };
    const opts = { causationId, metadata: { shopId: shop.id, deliveryEventId: recorded.id } };
    const { store } = this.deps;
    switch (command.type) {
      case 'RecordCartActivity': {
        const sealed = await this.seal(shop.id, command.contact, command.customer);
        await runDecider(
          store,
          cartStream(shop.id, command.cartId),
          cartDecider,
          { ...command, ...ctx, ...sealed },
          opts,
        );
        return;
      }
      case 'ReportCartAbandoned':
      case 'CompleteCheckout':
      case 'DeleteCart':
        await runDecider(store, cartStream(shop.id, command.cartId), cartDecider, { ...command, ...ctx }, opts);
        return;
      case 'PlaceOrder': {
        const sealed = await this.seal(shop.id, command.contact, command.customer);
        const stream = orderStream(shop.id, command.orderId);
        await runDecider(store, stream, orderDecider, { ...command, ...ctx, ...sealed }, opts);
        // Link every cart the order came from, caused by the stored order event (also on a replay,
        // when the order was decided before: the carts' own causation check makes it idempotent).
        const orderEventId = (await store.readStream(stream)).find((r) => r.type === EventTypes.OrderPlaced)?.id;
        if (!orderEventId) return;
        for (const cartId of command.cartIds) {
          await runDecider(
            store,
            cartStream(shop.id, cartId),
            cartDecider,
            {
              type: 'MarkCartPurchased',
              cartId,
              orderId: command.orderId,
              placedAt: command.placedAt,
              shopId: shop.id,
              causationId: orderEventId,
              receivedAt: ctx.receivedAt,
            },
            { causationId: orderEventId, metadata: { shopId: shop.id } },
          );
        }
        return;
      }
      case 'UpsertCustomer':
      case 'ChangeMarketingConsent':
      case 'RequestCustomerData': {
        const sealed = await this.seal(shop.id, command.contact, command.customer);
        if (!sealed.customerKey) return; // nobody to attach it to
        await runDecider(
          store,
          customerStream(shop.id, sealed.customerKey),
          customerDecider,
          { ...command, ...ctx, ...sealed, customerKey: sealed.customerKey },
          opts,
        );
        return;
      }
      case 'RedactCustomer': {
        const keys = this.deps.vault.customerKeysFor(shop.id, {
          email: command.contact.email,
          phone: command.contact.phone,
          platformCustomerId: command.customer.platformCustomerId,
        });
        for (const customerKey of keys) {
          await runDecider(
            store,
            customerStream(shop.id, customerKey),
            customerDecider,
            { ...command, ...ctx, contact: undefined, reach: reachFor(undefined), customerKey },
            opts,
          );
        }
        // Crypto-shredding (R29): every sealed copy of this customer's data becomes unreadable.
        await this.deps.vault.shred(shop.id, keys);
        return;
      }
      case 'RedactShop':
        await redactShop(this.deps, { ...command, ...ctx, metadata: { deliveryEventId: recorded.id } });
        return;
    }
  }

  private async seal(shopId: string, contact: ContactDetails, customer: CustomerReference) {
    const hasIdentity = Boolean(contact.email || contact.phone || customer.platformCustomerId);
    const customerKey = hasIdentity
      ? this.deps.vault.subjectFor(shopId, {
          email: contact.email,
          phone: contact.phone,
          platformCustomerId: customer.platformCustomerId,
        })
      : undefined;
    const hasContact = Object.values(contact).some((v) => v !== undefined && v !== '');
    return {
      customerKey,
      reach: reachFor(contact),
      contact: hasContact ? await this.deps.vault.seal(shopId, customerKey ?? 'shop', contact) : undefined,
    };
  }

  private async quarantine(
    recorded: RecordedEvent,
    d: WebhookReceivedData,
    reason: string,
    field: string,
  ): Promise<void> {
    const stream = deliveryStream(d.platform, d.shopId, d.deliveryId);
    const q = event(EventTypes.WebhookQuarantined, {
      platform: d.platform,
      shopId: d.shopId,
      topic: d.topic,
      deliveryId: d.deliveryId,
      apiVersion: d.apiVersion,
      receivedAt: d.receivedAt,
      reason,
      field,
    });
    await this.deps.store.append(
      stream,
      [
        {
          id: uuidv5(`${recorded.id}|quarantined`, RECLAIM_ID_NAMESPACE),
          type: q.type,
          schemaVersion: q.schemaVersion,
          data: q.data,
          metadata: { shopId: d.shopId, causationId: recorded.id },
        },
      ],
      recorded.revision,
    );
    this.deps.log?.warn({ shopId: d.shopId, deliveryId: d.deliveryId, reason, field }, 'delivery quarantined');
  }
}
