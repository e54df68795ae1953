import type { ShopCommand, ShopEvent, ShopRedacted } from './shop.messages';
import { event } from '../events/catalogue';
import type { IsoTimestamp } from '../inbound/inbound-types';
import { rememberCausation, type Decider } from '../shared/decider';
import { effectivePlatformTime } from '../shared/time';
import { validTimestamp } from '../shared/validation';

export interface ShopState {
  /** Times the shop asked for erasure; each request is recorded (the purge is idempotent). */
  readonly redactionRequests: number;
  readonly lastRedactionAt?: IsoTimestamp;
  readonly seenCausationIds: readonly string[];
}

export const initialShopState = (): ShopState => ({ redactionRequests: 0, seenCausationIds: [] });

export function decideShop(command: ShopCommand, state: ShopState): ShopEvent[] {
  if (state.seenCausationIds.includes(command.causationId)) return [];
  const time = effectivePlatformTime(command.platformUpdatedAt, command.receivedAt);
  return [
    event<ShopRedacted>('shop.redacted', {
      shopId: command.shopId,
      causationId: command.causationId,
      receivedAt: validTimestamp(command.receivedAt, 'receivedAt'),
      platform: command.platform,
      requestedAt: time.at,
    }),
  ];
}

export function evolveShop(state: ShopState, e: ShopEvent): ShopState {
  return {
    redactionRequests: state.redactionRequests + 1,
    lastRedactionAt: e.data.requestedAt,
    seenCausationIds: rememberCausation(state.seenCausationIds, e.data.causationId),
  };
}

export const shopDecider: Decider<ShopState, ShopCommand, ShopEvent> = {
  decide: decideShop,
  evolve: evolveShop,
  initialState: initialShopState,
};
