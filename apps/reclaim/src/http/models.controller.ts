import { Controller, Get, HttpCode, Inject, NotFoundException, Param, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { TrainingOutcome } from '@reclaim/application';
import { modelCard, type ModelCard } from '@reclaim/read-models/queries/models';
import type { Runtime } from '../runtime/runtime';
import { RUNTIME } from '../runtime/runtime.token';
import { AdminAuthGuard, AdminOnly } from './admin-auth.guard';
import { IdPipe } from './ids';

/**
 * The recovery score's models (RFC 0011): the model card's data (analyst or admin) and a training
 * on demand (admin). The schedule (SCORE_RETRAIN_INTERVAL) trains every shop the same way.
 */
@ApiTags('recovery score')
@ApiBearerAuth()
@UseGuards(AdminAuthGuard)
@Controller('api/shops')
export class ModelsController {
  constructor(@Inject(RUNTIME) private readonly runtime: Runtime) {}

  @Get(':id/models')
  @ApiOperation({
    summary:
      "The shop's recovery-score models: live version and last training outcome (or the outcomes still needed), every version's held-out AUC / Brier / ECE, reliability bins, top features, and recovery rate by score decile",
  })
  async card(@Param('id', IdPipe) id: string): Promise<ModelCard> {
    await this.shop(id);
    return modelCard(this.runtime.pool, id);
  }

  @Post(':id/models/train')
  @HttpCode(200)
  @AdminOnly()
  @ApiOperation({
    summary:
      "Train the shop's recovery-score model now: `promoted` or `rejected` (champion/challenger on the most recent outcomes, with the reason), `skipped` (outcomes still needed) or `failed`; recorded on the shop's model stream",
  })
  async train(@Param('id', IdPipe) id: string): Promise<TrainingOutcome> {
    await this.shop(id);
    return this.runtime.engine.models.trainer.train(id, 'on-demand');
  }

  private async shop(id: string) {
    const shop = await this.runtime.shops.get(id);
    if (!shop) throw new NotFoundException(`no shop ${id}`);
    return shop;
  }
}
