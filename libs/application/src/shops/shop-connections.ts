import { randomUUID } from 'node:crypto';
import type { EventStore } from '@reclaim/event-store';
import type { PersonalDataVault } from '@reclaim/privacy';
import { redactShop } from './purge-shop';
import { ShopAlreadyRegisteredError, type Shop, type ShopCredentials, type ShopRegistry } from './shop-registry';
import {
  StoreConnectionError,
  type CredentialCheck,
  type StoreAccess,
  type StoreConnectionPort,
  type WantedSubscription,
} from '@reclaim/ports';
import { assessSubscriptions, ownedSubscriptionIds, type SubscriptionStatus } from './subscription-plan';
import { problemOf, type ConnectionReport, type ConnectShopInput } from './connection-report';

export {
  CONNECTION_CHECK_INTERVAL_MS,
  problemOf,
  type ConnectionReport,
  type ConnectShopInput,
  type CredentialStatus,
} from './connection-report';

export interface ShopConnectionsDeps {
  readonly shops: ShopRegistry;
  readonly stores: StoreConnectionPort;
  /** False when store calls are switched off (`STORE_ADAPTERS=off`): nothing is verified or registered. */
  readonly storeCalls: boolean;
  /** The appliance's public base URL (webhook addresses). */
  readonly publicUrl: string;
  readonly store: EventStore;
  readonly vault: Pick<PersonalDataVault, 'shredShop'>;
  readonly now: () => Date;
}

const STORES_OFF = 'store calls are switched off (STORE_ADAPTERS=off)';

/**
 * Shops connect themselves: the credentials are verified against the store before anything is
 * saved, the webhook subscriptions the appliance needs are created or repaired idempotently (a
 * second call changes nothing), drift is reported and repaired on demand, and deleting a shop
 * removes its subscriptions and purges its data through the shop/redact path (R29).
 */
export class ShopConnections {
  constructor(private readonly deps: ShopConnectionsDeps) {}

  /**
   * Verifies, registers the subscriptions (unless `registerWebhooks: false`), then saves the shop.
   * Throws {@link StoreConnectionError} (nothing saved; subscriptions created by this call are
   * removed again) or {@link ShopAlreadyRegisteredError}.
   */
  async register(
    input: ConnectShopInput,
  ): Promise<{ shop: Shop; cartflowsToken?: string; connection: ConnectionReport }> {
    const { shops, stores, storeCalls } = this.deps;
    if (await shops.findByDomain(input.platform, input.shopDomain)) {
      throw new ShopAlreadyRegisteredError(input.platform, input.shopDomain);
    }
    const registerWebhooks = input.registerWebhooks ?? true;
    const access: StoreAccess = { ...input };
    let recorded: Record<string, string> = {};
    let connection: ConnectionReport;
    let created: string[] = [];
    if (!storeCalls) {
      connection = this.unchecked(registerWebhooks, access);
    } else {
      const scopes = await stores.verify(access);
      if (registerWebhooks) {
        const applied = await this.reconcile(stores, access, {}, true);
        recorded = applied.recorded;
        created = applied.createdIds;
        connection = { ...applied.report, scopes: scopeView(scopes) };
      } else {
        connection = await this.inspectWith(stores, access, registerWebhooks, {}, scopes);
      }
    }
    try {
      const { shop, cartflowsToken } = await shops.register({ ...input, registerWebhooks, subscriptions: recorded });
      if (storeCalls) await this.record(shop.id, connection);
      return { shop, connection, ...(cartflowsToken !== undefined ? { cartflowsToken } : {}) };
    } catch (err) {
      await this.removeIds(stores, access, created);
      throw err;
    }
  }

  /**
   * The connection as it is now: credentials, scopes and each subscription's state. Changes nothing
   * on the platform; the outcome is kept on the shop (`/health` names shops with a problem).
   */
  async inspect(shopId: string): Promise<ConnectionReport | null> {
    const report = await this.inspectNow(shopId);
    if (report) await this.record(shopId, report);
    return report;
  }

  /**
   * Checks every shop (the appliance does so every {@link CONNECTION_CHECK_INTERVAL_MS} when store
   * calls are on), so a subscription deleted or a token revoked on the platform shows in `/health`
   * and `/metrics` without anybody asking. One shop failing does not stop the others.
   */
  async checkAll(): Promise<{ checked: number; problems: number }> {
    let checked = 0;
    let problems = 0;
    if (!this.deps.storeCalls) return { checked, problems };
    for (const shop of await this.deps.shops.list()) {
      try {
        const report = await this.inspect(shop.id);
        checked += 1;
        if (report && problemOf(report) !== null) problems += 1;
      } catch (err) {
        problems += 1;
        const message = err instanceof Error ? err.name : 'error';
        await this.deps.shops.recordConnectionCheck(shop.id, `connection check failed (${message})`, this.deps.now());
      }
    }
    return { checked, problems };
  }

  private async record(shopId: string, report: ConnectionReport): Promise<void> {
    await this.deps.shops.recordConnectionCheck(shopId, problemOf(report), this.deps.now());
  }

  private async inspectNow(shopId: string): Promise<ConnectionReport | null> {
    const shop = await this.deps.shops.get(shopId);
    if (!shop) return null;
    const access = this.accessOf(shop);
    const { stores } = this.deps;
    if (!this.deps.storeCalls) return this.unchecked(shop.registerWebhooks, access);
    let scopes: CredentialCheck;
    try {
      scopes = await stores.verify(access);
    } catch (err) {
      if (!(err instanceof StoreConnectionError)) throw err;
      return {
        platform: shop.platform,
        registerWebhooks: shop.registerWebhooks,
        checkedAt: this.deps.now().toISOString(),
        credentials: { status: 'failed', failure: err.failure, message: err.message },
        subscriptions: stores
          .wanted(access, this.deps.publicUrl)
          .map((w) => ({ topic: w.topic, address: w.address, state: 'unchecked' as const })),
      };
    }
    return this.inspectWith(stores, access, shop.registerWebhooks, shop.subscriptions, scopes);
  }

  /**
   * Creates what is missing and repairs what drifted (also for a shop registered with
   * `registerWebhooks: false`: asking for a repair is asking the appliance to manage them).
   */
  async repair(shopId: string): Promise<ConnectionReport | null> {
    const shop = await this.deps.shops.get(shopId);
    if (!shop) return null;
    const { stores } = this.deps;
    const access = this.accessOf(shop);
    if (!this.deps.storeCalls) return this.unchecked(shop.registerWebhooks, access);
    const scopes = await stores.verify(access);
    const applied = await this.reconcile(stores, access, shop.subscriptions, false);
    await this.deps.shops.setSubscriptions(shop.id, applied.recorded);
    const report = { ...applied.report, registerWebhooks: shop.registerWebhooks, scopes: scopeView(scopes) };
    await this.record(shop.id, report);
    return report;
  }

  /**
   * After the webhook secret was rotated: every subscription that holds a secret (BigCommerce's
   * header, WooCommerce's signing secret) gets the new one, so deliveries are signed with it before
   * the previous one's window closes. Undefined when the appliance does not manage the shop's
   * subscriptions (`registerWebhooks: false`, or no store calls): the merchant updates them.
   */
  async afterSecretRotation(shopId: string): Promise<ConnectionReport | undefined> {
    const shop = await this.deps.shops.get(shopId);
    if (!shop || !shop.registerWebhooks || !this.deps.storeCalls) return undefined;
    const applied = await this.reconcile(this.deps.stores, this.accessOf(shop), shop.subscriptions, false, true);
    await this.deps.shops.setSubscriptions(shop.id, applied.recorded);
    await this.record(shop.id, applied.report);
    return applied.report;
  }

  /**
   * Removes the shop's subscriptions on the platform (when the store can be reached: a store that
   * refuses the credentials must not keep the shop's data here), purges its data (shop/redact) and
   * forgets it. Null when there is no such shop.
   */
  async remove(shopId: string): Promise<{ removedSubscriptions: number; subscriptionsError?: string } | null> {
    const shop = await this.deps.shops.get(shopId);
    if (!shop) return null;
    const { stores } = this.deps;
    const access = this.accessOf(shop);
    let removed = 0;
    let subscriptionsError: string | undefined;
    if (this.deps.storeCalls) {
      try {
        const existing = await stores.list(access);
        const ids = ownedSubscriptionIds(stores.wanted(access, this.deps.publicUrl), existing, shop.subscriptions);
        for (const id of ids) await stores.remove(access, id);
        removed = ids.length;
      } catch (err) {
        if (!(err instanceof StoreConnectionError)) throw err;
        subscriptionsError = err.message;
      }
    }
    const at = this.deps.now().toISOString();
    await redactShop(this.deps, {
      shopId: shop.id,
      platform: shop.platform,
      causationId: randomUUID(),
      receivedAt: at,
      platformUpdatedAt: at,
      metadata: { reason: 'shop deleted by the merchant' },
    });
    await this.deps.shops.remove(shop.id);
    return { removedSubscriptions: removed, ...(subscriptionsError !== undefined ? { subscriptionsError } : {}) };
  }

  private async inspectWith(
    stores: StoreConnectionPort,
    access: StoreAccess,
    registerWebhooks: boolean,
    recorded: Readonly<Record<string, string>>,
    scopes: CredentialCheck,
  ): Promise<ConnectionReport> {
    const wanted = stores.wanted(access, this.deps.publicUrl);
    const statuses = assessSubscriptions(wanted, await stores.list(access), recorded);
    return {
      platform: access.platform,
      registerWebhooks,
      checkedAt: this.deps.now().toISOString(),
      credentials: { status: 'ok' },
      scopes: scopeView(scopes),
      subscriptions: registerWebhooks ? statuses : statuses.map((s) => withInstructions(s, wanted)),
    };
  }

  private async reconcile(
    stores: StoreConnectionPort,
    access: StoreAccess,
    recorded: Readonly<Record<string, string>>,
    rollbackOnFailure: boolean,
    /** Also update the subscriptions whose secret cannot be read back (after a rotation). */
    refreshSecrets = false,
  ): Promise<{ report: ConnectionReport; recorded: Record<string, string>; createdIds: string[] }> {
    const wanted = stores.wanted(access, this.deps.publicUrl);
    const existing = await stores.list(access);
    const unreadable = new Set(existing.filter((e) => e.secret === 'unreadable').map((e) => e.id));
    const before = assessSubscriptions(wanted, existing, recorded).map((s) =>
      refreshSecrets && s.state === 'ok' && s.id !== undefined && unreadable.has(s.id)
        ? { ...s, state: 'drifted' as const, drift: ['secret' as const] }
        : s,
    );
    const next: Record<string, string> = {};
    const createdIds: string[] = [];
    const created: string[] = [];
    const updated: string[] = [];
    const after: SubscriptionStatus[] = [];
    try {
      for (const [i, status] of before.entries()) {
        const w = wanted[i] as WantedSubscription;
        if (status.state === 'missing') {
          const made = await stores.create(access, w);
          createdIds.push(made.id);
          created.push(w.topic);
          next[w.topic] = made.id;
          after.push({ topic: w.topic, address: w.address, state: 'ok', id: made.id });
        } else if (status.state === 'drifted' && status.id !== undefined) {
          const fixed = await stores.update(access, status.id, w);
          updated.push(w.topic);
          next[w.topic] = fixed.id;
          after.push({ topic: w.topic, address: w.address, state: 'ok', id: fixed.id });
        } else {
          if (status.id !== undefined) next[w.topic] = status.id;
          after.push(status);
        }
      }
    } catch (err) {
      if (rollbackOnFailure) await this.removeIds(stores, access, createdIds);
      throw err;
    }
    return {
      recorded: next,
      createdIds,
      report: {
        platform: access.platform,
        registerWebhooks: true,
        checkedAt: this.deps.now().toISOString(),
        credentials: { status: 'ok' },
        subscriptions: after,
        changed: { created, updated },
      },
    };
  }

  /** Best effort: the caller reports its own failure, not this clean-up's. */
  private async removeIds(stores: StoreConnectionPort, access: StoreAccess, ids: readonly string[]): Promise<void> {
    for (const id of ids) await stores.remove(access, id).catch(() => undefined);
  }

  /** Without store calls: what the merchant must create, unchecked. */
  private unchecked(registerWebhooks: boolean, access: StoreAccess): ConnectionReport {
    const wanted = this.deps.stores.wanted(access, this.deps.publicUrl);
    return {
      platform: access.platform,
      registerWebhooks,
      checkedAt: this.deps.now().toISOString(),
      credentials: { status: 'unchecked', reason: STORES_OFF },
      subscriptions: wanted.map((w) =>
        w.manual !== undefined
          ? { topic: w.topic, address: w.address, state: 'manual' as const, instructions: w.manual }
          : { topic: w.topic, address: w.address, state: 'unchecked' as const, instructions: instructionFor(w) },
      ),
    };
  }

  private accessOf(shop: ShopCredentials): StoreAccess {
    return {
      platform: shop.platform,
      shopDomain: shop.shopDomain,
      apiUrl: shop.apiUrl,
      apiToken: shop.apiToken,
      webhookSecret: shop.webhookSecrets(this.deps.now())[0] ?? '',
    };
  }
}

function scopeView(check: CredentialCheck): { required: readonly string[]; granted: readonly string[] } {
  return { required: check.required, granted: check.granted };
}

function withInstructions(status: SubscriptionStatus, wanted: readonly WantedSubscription[]): SubscriptionStatus {
  if (status.state === 'ok' || status.state === 'manual') return status;
  const w = wanted.find((x) => x.topic === status.topic);
  return { ...status, instructions: instructionFor(w ?? status) };
}

function instructionFor(w: { readonly topic: string; readonly address: string }): string {
  return `create a subscription to ${w.topic} delivering JSON to ${w.address}`;
}
