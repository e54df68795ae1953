import { Module, RequestMethod, type DynamicModule } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { LoggerModule } from 'nestjs-pino';
import type { Logger } from 'pino';
import { ReceiveWebhook, RecoveryEffectsModule, redactMessageTokenPath } from '@reclaim/application';
import { platformAdapters } from '@reclaim/platforms';
import { ReclaimMetrics } from '@reclaim/read-models';
import { applianceSubscriptions } from './runtime/subscriptions';
import { CustomersController } from './http/customers.controller';
import { DASHBOARD_CONTROLLERS } from './http/dashboard/dashboard.controller';
import { HealthController } from './http/health.controller';
import { MetricsController, registerKlaviyoMetrics, registerShopConnectionMetrics } from './http/metrics.controller';
import { MESSAGE_LINK_CONTROLLERS, messageLinkProviders } from './http/messages';
import { RecoveryAdminController } from './http/recovery-admin.controller';
import { ModelsController } from './http/models.controller';
import { ExperimentsController } from './http/experiments.controller';
import { IncentivesController } from './http/incentives.controller';
import { ShopsController } from './http/shops.controller';
import { TokensController } from './http/tokens.controller';
import { TwilioWebhooksController } from './http/twilio-webhooks.controller';
import { SupportWebhooksController } from './http/support-webhooks.controller';
import type { Runtime } from './runtime/runtime';
import { RUNTIME } from './runtime/runtime.token';
import { WorkersService } from './runtime/workers.service';

@Module({})
export class AppModule {
  static forRuntime(runtime: Runtime, logger: Logger): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ScheduleModule.forRoot(),
        // The recovery effects as @nestjs/cqrs command handlers, dispatched by the effect runner.
        RecoveryEffectsModule.forDeps(runtime.engine.effects),
        LoggerModule.forRoot({
          // Webhooks are plain Fastify routes with their own refusal logging (http/webhook-routes.ts).
          exclude: [{ method: RequestMethod.ALL, path: 'webhooks/*path' }],
          pinoHttp: {
            logger,
            autoLogging: { ignore: (req) => req.url === '/health' },
            serializers: {
              req: (req: { method: string; url: string }) => ({
                method: req.method,
                // Tokens in paths are credentials: /cartflows/<token>, /u/<token>, /t/o|c/<token>.
                path: redactMessageTokenPath(
                  String(req.url)
                    .split('?')[0]
                    .replace(/\/cartflows\/[^/]+/, '/cartflows/:token'),
                ),
              }),
              res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
            },
          },
        }),
      ],
      controllers: [
        HealthController,
        MetricsController,
        ShopsController,
        TokensController,
        RecoveryAdminController,
        ModelsController,
        ExperimentsController,
        IncentivesController,
        CustomersController,
        ...MESSAGE_LINK_CONTROLLERS,
        TwilioWebhooksController,
        SupportWebhooksController,
        ...DASHBOARD_CONTROLLERS,
      ],
      providers: [
        { provide: RUNTIME, useValue: runtime },
        ...messageLinkProviders(runtime.engine.linkDeps),
        {
          provide: ReclaimMetrics,
          useFactory: () => {
            const metrics = new ReclaimMetrics({
              pool: runtime.pool,
              store: runtime.store,
              subscriptions: applianceSubscriptions(runtime.config.ENGINE_PARTITIONS),
            });
            registerShopConnectionMetrics(metrics.registry, runtime.shops);
            registerKlaviyoMetrics(metrics.registry, runtime.pool);
            runtime.engine.providerMetrics.attach(metrics);
            return metrics;
          },
        },
        {
          provide: ReceiveWebhook,
          inject: [ReclaimMetrics],
          useFactory: (metrics: ReclaimMetrics) =>
            new ReceiveWebhook({
              store: metrics.instrument(runtime.store),
              shops: runtime.shops,
              vault: runtime.vault,
              adapters: platformAdapters,
              metrics,
            }),
        },
        WorkersService,
      ],
    };
  }
}
