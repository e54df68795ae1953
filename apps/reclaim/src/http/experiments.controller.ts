import { Controller, Get, HttpCode, Inject, NotFoundException, Param, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { experimentReports, type EvaluationSummary, type ExperimentReport } from '@reclaim/application';
import type { Runtime } from '../runtime/runtime';
import { RUNTIME } from '../runtime/runtime.token';
import { AdminAuthGuard, AdminOnly } from './admin-auth.guard';
import { IdPipe } from './ids';

/**
 * Experiments of step variants (RFC 0016): each experiment's variants with their evidence,
 * posteriors, probability of being best, spend and status, and its adoption history (analyst or
 * admin); an evaluation on demand (admin) — the engine evaluates every minute the same way.
 */
@ApiTags('experiments')
@ApiBearerAuth()
@UseGuards(AdminAuthGuard)
@Controller('api/shops')
export class ExperimentsController {
  constructor(@Inject(RUNTIME) private readonly runtime: Runtime) {}

  @Get(':id/experiments')
  @ApiOperation({
    summary:
      "The shop's experiments of step variants: per variant the assignments, settled and recovered recoveries, net revenue, discount cost, messages, unsubscribes, complaints, posterior means and probability of being best; status and adoption history",
  })
  async list(@Param('id', IdPipe) id: string): Promise<{ experiments: ExperimentReport[] }> {
    await this.shop(id);
    const config = (await this.runtime.engine.settings.forShop(id)).config;
    const experiments = await experimentReports(
      this.runtime.store,
      this.runtime.pool,
      id,
      config.attributionWindowMs,
      this.runtime.engine.clock.now(),
    );
    return { experiments };
  }

  @Post(':id/experiments/evaluate')
  @HttpCode(200)
  @AdminOnly()
  @ApiOperation({
    summary:
      "Evaluate the shop's experiments now: guardrails, posteriors and adoption, each recorded on the experiment's stream",
  })
  async evaluate(@Param('id', IdPipe) id: string): Promise<EvaluationSummary> {
    await this.shop(id);
    return this.runtime.engine.experiments.evaluator.evaluateShop(id);
  }

  private async shop(id: string) {
    const shop = await this.runtime.shops.get(id);
    if (!shop) throw new NotFoundException(`no shop ${id}`);
    return shop;
  }
}
