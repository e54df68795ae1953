import { Controller, Get, Inject, NotFoundException, Param, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { incentiveReport, PROFIT_PER_CART_VALUE, type IncentiveSegmentReport } from '@reclaim/application';
import type { DiscountPolicy } from '@reclaim/domain';
import { discountReadModels, type DiscountReadModels } from '@reclaim/read-models/queries/incentives';
import type { Runtime } from '../runtime/runtime';
import { RUNTIME } from '../runtime/runtime.token';
import { AdminAuthGuard } from './admin-auth.guard';
import { IdPipe } from './ids';

export interface IncentivesResponse extends DiscountReadModels {
  readonly policy: DiscountPolicy;
  readonly marginPercent: number;
  readonly explorationPercent: number;
  readonly priorStrength: number;
  /** The cart value the expected incremental profits are given for. */
  readonly profitPerCartValue: string;
  readonly segments: readonly IncentiveSegmentReport[];
}

/**
 * Discounts only where they pay (RFC 0017), for the dashboard's "Discounts" panel (analyst or
 * admin): per segment each level's evidence, posterior uplift over 0 % with its 95 % interval and
 * expected incremental profit, and the level the learned policy exploits now (the engine's own
 * numbers); the withheld discounts by reason and the code farmers detected (read models).
 */
@ApiTags('incentives')
@ApiBearerAuth()
@UseGuards(AdminAuthGuard)
@Controller('api/shops')
export class IncentivesController {
  constructor(@Inject(RUNTIME) private readonly runtime: Runtime) {}

  @Get(':id/incentives')
  @ApiOperation({
    summary:
      "The shop's learned discounts: per segment and level the final outcomes, posterior recovery rate, uplift over 0 % with its 95 % interval, expected incremental profit per 100 of cart value, the level exploited now; withheld discounts by reason; code farmers detected",
  })
  async report(@Param('id', IdPipe) id: string): Promise<IncentivesResponse> {
    const shop = await this.runtime.shops.get(id);
    if (!shop) throw new NotFoundException(`no shop ${id}`);
    const config = (await this.runtime.engine.settings.forShop(id)).config;
    const s = config.incentives;
    const [segments, readModels] = await Promise.all([
      incentiveReport(this.runtime.pool, id, s, config.attributionWindowMs, this.runtime.engine.clock.now()),
      discountReadModels(this.runtime.pool, id),
    ]);
    return {
      policy: s.policy,
      marginPercent: s.marginPercent,
      explorationPercent: s.explorationPercent,
      priorStrength: s.priorStrength,
      profitPerCartValue: PROFIT_PER_CART_VALUE,
      segments,
      ...readModels,
    };
  }
}
