/**
 * The effects as a Nest module: `CqrsModule` (the `CommandBus`), one `@CommandHandler` per effect,
 * and the {@link EffectRunner} that claims the durable requests and dispatches them. The appliance
 * imports it into its application module; callers without an application (tests, tools) get the
 * same module as a standalone Nest context from {@link createEffectRunner} — one code path.
 */
import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { CommandBus, CqrsModule } from '@nestjs/cqrs';
import { CheckInventoryHandler } from './check-inventory.handler';
import { EffectContext } from './effect-context';
import { EFFECT_DEPS, type EffectRunnerDeps } from './effect-deps';
import { EffectQueue } from './effect-queue';
import { EffectRecords } from './effect-records';
import { EffectRunner } from './effect-runner';
import { MessageDelivery } from './message-delivery';
import { OpenSupportTicketHandler } from './open-support-ticket.handler';
import { ReconcileUnknownOutcomeHandler } from './reconcile-unknown-outcome.handler';
import { SendRecoveryStepHandler } from './send-recovery-step.handler';
import { SyncProfileHandler } from './sync-profile.handler';
import { EnrichRecoveryHandler } from './enrich-recovery.handler';
import { SendBackInStockHandler } from './back-in-stock.handler';
import { CategorizeCartProductsHandler } from './categorize-cart-products.handler';

/** Every effect's command handler (what `CqrsModule` registers on the `CommandBus`). */
export const EFFECT_COMMAND_HANDLERS = [
  SendRecoveryStepHandler,
  CheckInventoryHandler,
  ReconcileUnknownOutcomeHandler,
  OpenSupportTicketHandler,
  SyncProfileHandler,
  EnrichRecoveryHandler,
  SendBackInStockHandler,
  CategorizeCartProductsHandler,
] as const;

@Module({})
export class RecoveryEffectsModule {
  static forDeps(deps: EffectRunnerDeps): DynamicModule {
    const providers: Provider[] = [
      { provide: EFFECT_DEPS, useValue: deps },
      { provide: EffectQueue, useFactory: (d: EffectRunnerDeps) => new EffectQueue(d.pool), inject: [EFFECT_DEPS] },
      { provide: EffectRecords, useFactory: (d: EffectRunnerDeps) => new EffectRecords(d.pool), inject: [EFFECT_DEPS] },
      EffectContext,
      MessageDelivery,
      ...EFFECT_COMMAND_HANDLERS,
      EffectRunner,
    ];
    return {
      module: RecoveryEffectsModule,
      imports: [CqrsModule.forRoot()],
      providers,
      exports: [EffectRunner],
    };
  }
}

/** A standalone effect runner (tests, tools): the same module, bus and handlers as the appliance's. */
export interface StandaloneEffectRunner {
  readonly runner: EffectRunner;
  readonly bus: CommandBus;
  close(): Promise<void>;
}

export async function createEffectRunner(deps: EffectRunnerDeps): Promise<StandaloneEffectRunner> {
  const context = await NestFactory.createApplicationContext(RecoveryEffectsModule.forDeps(deps), {
    logger: false,
    abortOnError: false,
  });
  return { runner: context.get(EffectRunner), bus: context.get(CommandBus), close: () => context.close() };
}
