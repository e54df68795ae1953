/**
 * The recovery engine's own ports. The ports to outside systems (channel, ticket, profile,
 * commerce) and their typed errors live in libs/ports (`@reclaim/ports`); real adapters in
 * libs/providers and libs/platforms, test doubles in libs/testing/src/fakes. Every call that
 * creates something carries an idempotency key, so a retry after a crash never creates a second
 * message, ticket or code.
 */
import type { RecoveryShop } from '@reclaim/ports';

/** `ShopRegistry.get` satisfies it. */
export interface ShopLookup {
  get(shopId: string): Promise<RecoveryShop | null>;
  /**
   * The IANA time zones of several shops with at most one round trip (the engine's batches); a
   * shop that is not registered is absent. Optional: one `get` per shop otherwise.
   */
  timeZones?(shopIds: readonly string[]): Promise<Map<string, string>>;
}

/**
 * Rendering and links are the messages module's ports (`MessageRenderer`, `RenderMessageInput`,
 * `MessageLinkFactory` in libs/application/src/messages): one port, used by the effect runner.
 */
export type { MessageRenderer, RenderedMessage, RenderItem, RenderMessageInput } from '../messages/renderer';
export type { MessageLinkFactory } from '../messages/links';

/** Something to report problems to without personal data. */
export interface EngineLog {
  warn(obj: object, msg: string): void;
  info?(obj: object, msg: string): void;
}
