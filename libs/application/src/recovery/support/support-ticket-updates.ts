/**
 * A help desk (Zendesk webhook, Gorgias HTTP integration) says one of its tickets was created or
 * changed. The webhook names the ticket only; the desk is asked who the requester is and which of
 * their tickets are open (the same lookup as at send time), and every running recovery of that
 * customer, in every shop, records the answer (`RecordSupportLookup`, trigger `webhook`): a ticket
 * about the cart switches to the help copy (or pauses) at once, and its closing switches back (or
 * resumes) without waiting for the next step. The address is used for the lookups and dropped.
 */
import type { Pool } from 'pg';
import { readCustomerTickets, type SupportLookupResult } from '@reclaim/domain';
import type { EventStore } from '@reclaim/event-store';
import type { CustomerTicketLookup } from '@reclaim/ports';
import { supportLookupFailureOf } from '../effects/support-lookup';
import type { EngineLog } from '../ports';
import { loadRecovery, runRecovery } from '../recovery-stream';
import type { ShopDeciders } from '../settings/shop-settings';
import type { ShopLister } from '../sms/sms-opt-outs';

export interface SupportTicketUpdatesDeps {
  readonly store: EventStore;
  readonly pool: Pool;
  readonly deciders: ShopDeciders;
  readonly lookup: CustomerTicketLookup;
  readonly shops: ShopLister;
  /** The vault: the customer key of an address in a shop. */
  readonly keys: { subjectFor(shopId: string, ids: { email?: string }): string | undefined };
  readonly clock: () => Date;
  readonly log?: EngineLog;
}

export interface SupportTicketUpdateResult {
  /** `no-requester`: the desk knows no requester address for the ticket (or no such ticket). */
  readonly outcome: 'applied' | 'no-requester' | 'no-recovery';
  /** Recoveries that recorded the lookup. */
  readonly recoveries: number;
  /** The desk could not list the customer's tickets: recorded as unavailable; the caller may ask the desk to retry. */
  readonly lookupFailed: boolean;
}

export class SupportTicketUpdates {
  constructor(private readonly deps: SupportTicketUpdatesDeps) {}

  get desk(): CustomerTicketLookup['desk'] {
    return this.deps.lookup.desk;
  }

  /** Throws the desk's typed provider errors when it cannot say who the requester is (ask for a retry). */
  async ticketChanged(ticketId: string, eventId: string): Promise<SupportTicketUpdateResult> {
    const { lookup } = this.deps;
    const email = await lookup.requesterOf(ticketId);
    if (email === undefined) return { outcome: 'no-requester', recoveries: 0, lookupFailed: false };
    const recoveries: { shopId: string; recoveryId: string }[] = [];
    for (const shop of await this.deps.shops.list()) {
      const key = this.deps.keys.subjectFor(shop.id, { email });
      if (key === undefined) continue;
      const { rows } = await this.deps.pool.query<{ recovery_id: string }>(
        `SELECT recovery_id FROM engine.customer_recoveries
          WHERE shop_id = $1 AND customer_key = $2 AND status = 'active' ORDER BY recovery_id`,
        [shop.id, key],
      );
      for (const r of rows) recoveries.push({ shopId: shop.id, recoveryId: r.recovery_id });
    }
    if (recoveries.length === 0) return { outcome: 'no-recovery', recoveries: 0, lookupFailed: false };
    let tickets: Awaited<ReturnType<CustomerTicketLookup['openTicketsOf']>> | undefined;
    let failure: SupportLookupResult | undefined;
    try {
      tickets = await lookup.openTicketsOf(email);
    } catch (err) {
      failure = { kind: 'unavailable', ...supportLookupFailureOf(err) };
    }
    let applied = 0;
    for (const { shopId, recoveryId } of recoveries) {
      const { state } = await loadRecovery(this.deps.store, recoveryId);
      if (state.status !== 'running' || state.cart === undefined || state.cartId === undefined) continue;
      const pm = await this.deps.deciders.forShop(shopId);
      const result =
        failure ?? readCustomerTickets(tickets ?? [], state.cart, state.cartId, pm.config.supportTicketMatch);
      await runRecovery(
        this.deps.store,
        pm,
        recoveryId,
        {
          type: 'RecordSupportLookup',
          at: this.deps.clock().toISOString(),
          source: lookup.desk,
          trigger: 'webhook',
          result,
        },
        `support-webhook:${lookup.desk}:${eventId}`,
        shopId,
      );
      applied++;
    }
    this.deps.log?.info?.(
      { desk: lookup.desk, recoveries: applied, lookupFailed: failure !== undefined },
      'help-desk ticket change applied',
    );
    return { outcome: 'applied', recoveries: applied, lookupFailed: failure !== undefined };
  }
}
