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
  productDecider,
  productStream,
  reachFor,
  type ContactDetails,
  type CustomerReference,
  type InboundCommand,
  type WebhookReceivedData,
} from '@reclaim/domain';
import { readStreams, type EventStore, type RecordedEvent } from '@reclaim/event-store';
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

  /**
   * The subscription handler: the checkpoint is written by the runner after this resolves. A batch
   * looks each shop up once, resolves every delivery, reads the cart and order streams their
   * commands touch in one read, then applies the deliveries lane by lane (deliveries of one lane in
   * log order, lanes concurrently, their appends group-committed together).
   */
  readonly handle = async (events: readonly RecordedEvent[], _tx: PoolClient): Promise<void> => {
    const deliveries = events.filter((e) => e.type === EventTypes.WebhookReceived);
    const batch = new DeliveryBatch(this.deps.store, this.deps.shops);
    const lanes = new Map<string, number[]>();
    deliveries.forEach((e, i) => {
      const lane = deliveryOrderingKey(e);
      lanes.set(lane, [...(lanes.get(lane) ?? []), i]);
    });
    const resolved = await Promise.all(deliveries.map((e) => this.resolve(e, batch)));
    if (resolved.some((r) => r !== undefined && redacts(r.mapping))) {
      // A redaction shreds what later deliveries of its lane (or shop) carry: those must be opened
      // after it, as one by one. Rare: the whole batch goes the one-by-one way.
      await Promise.all(
        [...lanes.values()].map(async (lane) => {
          for (const i of lane) await this.apply(deliveries[i]);
        }),
      );
      return;
    }
    await batch.prefetch(resolved.flatMap((r) => (r === undefined ? [] : streamsOf(r.shop.id, r.mapping))));
    await Promise.all(
      [...lanes.values()].map(async (lane) => {
        for (const i of lane) await this.applyResolved(deliveries[i], resolved[i], batch);
      }),
    );
  };

  async apply(recorded: RecordedEvent): Promise<void> {
    const batch = new DeliveryBatch(this.deps.store, this.deps.shops);
    await this.applyResolved(recorded, await this.resolve(recorded, batch), batch);
  }

  /** The delivery's shop and its mapping; undefined when there is nothing to apply. */
  private async resolve(recorded: RecordedEvent, batch: DeliveryBatch): Promise<Resolved | undefined> {
    const d = recorded.data as WebhookReceivedData;
    const shop = await batch.shop(d.shopId);
    if (!shop) {
      this.deps.log?.warn(
        { shopId: d.shopId, deliveryId: d.deliveryId },
        'delivery for a shop that no longer exists: skipped',
      );
      return undefined;
    }
    const body = await this.deps.vault.open<string>(d.shopId, d.payload);
    if (body === null) return undefined; // shredded (customer or shop redaction): nothing left to apply
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
    return { shop, mapping };
  }

  private async applyResolved(
    recorded: RecordedEvent,
    resolved: Resolved | undefined,
    batch: DeliveryBatch,
  ): Promise<void> {
    if (resolved === undefined) return;
    const { shop, mapping } = resolved;
    const d = recorded.data as WebhookReceivedData;
    if (mapping.outcome !== 'commands') {
      if (mapping.outcome === 'quarantined' || mapping.outcome === 'invalid') {
        await this.quarantine(recorded, d, mapping.reason, mapping.field);
      }
      return;
    }
    try {
      for (const [i, command] of mapping.commands.entries())
        await this.dispatch(shop, recorded, command, commandCausationId(recorded.id, i), batch);
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
    batch: DeliveryBatch,
  ): Promise<void> {
    const ctx = { shopId: shop.id, causationId, receivedAt: (recorded.data as WebhookReceivedData).receivedAt };
    const base = { causationId, metadata: { shopId: shop.id, deliveryEventId: recorded.id } };
    const opts = (stream: string) => ({ ...base, ...batch.take(stream) });
    const { store } = this.deps;
    switch (command.type) {
      case 'RecordCartActivity': {
        const sealed = await this.seal(shop.id, command.contact, command.customer);
        const stream = cartStream(shop.id, command.cartId);
        await runDecider(store, stream, cartDecider, { ...command, ...ctx, ...sealed }, opts(stream));
        return;
      }
      case 'ReportCartAbandoned':
      case 'CompleteCheckout':
      case 'DeleteCart': {
        const stream = cartStream(shop.id, command.cartId);
        await runDecider(store, stream, cartDecider, { ...command, ...ctx }, opts(stream));
        return;
      }
      case 'PlaceOrder': {
        const sealed = await this.seal(shop.id, command.contact, command.customer);
        const stream = orderStream(shop.id, command.orderId);
        await runDecider(store, stream, orderDecider, { ...command, ...ctx, ...sealed }, opts(stream));
        // Link every cart the order came from, caused by the stored order event (also on a replay,
        // when the order was decided before: the carts' own causation check makes it idempotent).
        const orderEventId = (await store.readStream(stream)).find((r) => r.type === EventTypes.OrderPlaced)?.id;
        if (!orderEventId) return;
        for (const cartId of command.cartIds) {
          const cart = cartStream(shop.id, cartId);
          await runDecider(
            store,
            cart,
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
            { causationId: orderEventId, metadata: { shopId: shop.id }, ...batch.take(cart) },
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
          base,
        );
        return;
      }
      case 'RedactCustomer': {
        const keys = this.deps.vault.customerKeysFor(shop.id, {
          email: command.contact.email,
          phone: command.contact.phone,
          platformCustomerId: command.customer.platformCustomerId,
        });
        // Crypto-shredding (R29) first: every sealed copy of this customer's data is unreadable before
        // the redaction is recorded, so nothing that reads `customer.redacted` (the data-requests list,
        // the export) can still open a cart's contact. A retry after a failed append shreds again.
        await this.deps.vault.shred(shop.id, keys);
        for (const customerKey of keys) {
          await runDecider(
            store,
            customerStream(shop.id, customerKey),
            customerDecider,
            { ...command, ...ctx, contact: undefined, reach: reachFor(undefined), customerKey },
            base,
          );
        }
        return;
      }
      case 'RedactShop':
        await redactShop(this.deps, { ...command, ...ctx, metadata: { deliveryEventId: recorded.id } });
        return;
      case 'ReportProductStock': {
        // Recorded as the store reported it; the recoveries watching the product hear of it from the log.
        const stream = productStream(shop.id, command.productId);
        await runDecider(store, stream, productDecider, { ...command, ...ctx }, opts(stream));
        return;
      }
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

interface Resolved {
  readonly shop: ShopCredentials;
  readonly mapping: Awaited<ReturnType<PlatformWebhookAdapter['resolve']>>;
}

function redacts(mapping: Resolved['mapping']): boolean {
  return (
    mapping.outcome === 'commands' &&
    mapping.commands.some((c) => c.type === 'RedactCustomer' || c.type === 'RedactShop')
  );
}

/** The cart and order streams a delivery's commands write (read ahead for the batch). */
function streamsOf(shopId: string, mapping: Resolved['mapping']): string[] {
  if (mapping.outcome !== 'commands') return [];
  return mapping.commands.flatMap((c) => {
    switch (c.type) {
      case 'RecordCartActivity':
      case 'ReportCartAbandoned':
      case 'CompleteCheckout':
      case 'DeleteCart':
        return [cartStream(shopId, c.cartId)];
      case 'PlaceOrder':
        return [orderStream(shopId, c.orderId), ...c.cartIds.map((id) => cartStream(shopId, id))];
      default:
        return [];
    }
  });
}

/**
 * What one batch of deliveries shares: each shop looked up once, and the streams its commands
 * write read in one go. A stream read ahead serves only the first decision on it in the batch (the
 * later ones read it afresh); stale, it costs that decision a retry (expected revision), never a
 * wrong write.
 */
class DeliveryBatch {
  private readonly shops = new Map<string, Promise<ShopCredentials | null>>();
  private streams = new Map<string, RecordedEvent[]>();

  constructor(
    private readonly store: EventStore,
    private readonly registry: Pick<ShopRegistry, 'get'>,
  ) {}

  shop(shopId: string): Promise<ShopCredentials | null> {
    let found = this.shops.get(shopId);
    if (found === undefined) {
      found = this.registry.get(shopId);
      this.shops.set(shopId, found);
    }
    return found;
  }

  async prefetch(streamIds: readonly string[]): Promise<void> {
    this.streams = await readStreams(this.store, streamIds);
  }

  /** The read-ahead events of `streamId` for one decision (`{}` when none are left). */
  take(streamId: string): { recorded?: RecordedEvent[] } {
    const recorded = this.streams.get(streamId);
    if (recorded === undefined) return {};
    this.streams.delete(streamId);
    return { recorded };
  }
}
