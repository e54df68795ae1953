import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { describeProviderError, PermanentProviderError, RetryableProviderError } from '@reclaim/ports';
import { CheckInventory, type InventoryOutcome } from './effect-commands';
import { EFFECT_DEFAULTS } from './effect-deps';
import { EffectContext } from './effect-context';

/** Stock, current prices and alternatives of the cart's lines from the store (`CommercePort.stock`). */
@CommandHandler(CheckInventory)
export class CheckInventoryHandler implements ICommandHandler<CheckInventory> {
  constructor(@Inject(EffectContext) private readonly ctx: EffectContext) {}

  async execute({ shop, items, context }: CheckInventory): Promise<InventoryOutcome> {
    try {
      return { kind: 'checked', lines: await this.ctx.deps.commerce.stock(shop, items) };
    } catch (err) {
      if (err instanceof RetryableProviderError) {
        return {
          kind: 'deferred',
          until: new Date(this.ctx.now().getTime() + (err.retryAfterMs ?? EFFECT_DEFAULTS.retryAfterMs)),
          reason: `stock lookup: ${describeProviderError(err)}`,
        };
      }
      if (!(err instanceof PermanentProviderError)) throw err;
      // The store refuses for good (token revoked, shop closed): the items are kept as they are.
      this.ctx.deps.log?.warn({ ...context, error: describeProviderError(err) }, 'stock lookup refused: items kept');
      return { kind: 'skipped', reason: 'store-refused', lines: [] };
    }
  }
}
