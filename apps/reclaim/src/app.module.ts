import { Module, type DynamicModule } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import type { Logger } from 'pino';
import { ReceiveWebhook } from '@reclaim/application';
import { platformAdapters } from '@reclaim/platforms';
import { HealthController } from './http/health.controller';
import { ShopsController } from './http/shops.controller';
import { WebhooksController } from './http/webhooks.controller';
import type { Runtime } from './runtime/runtime';
import { RUNTIME } from './runtime/runtime.token';
import { WorkersService } from './runtime/workers.service';

@Module({})
export class AppModule {
  static forRuntime(runtime: Runtime, logger: Logger): DynamicModule {
    return {
      module: AppModule,
      imports: [
        LoggerModule.forRoot({
          pinoHttp: {
            logger,
            autoLogging: { ignore: (req) => req.url === '/health' },
            serializers: {
              req: (req: { method: string; url: string }) => ({
                method: req.method,
                path: String(req.url)
                  .split('?')[0]
                  .replace(/\/cartflows\/[^/]+/, '/cartflows/:token'),
              }),
              res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
            },
          },
        }),
      ],
      controllers: [HealthController, ShopsController, WebhooksController],
      providers: [
        { provide: RUNTIME, useValue: runtime },
        {
          provide: ReceiveWebhook,
          useFactory: () =>
            new ReceiveWebhook({
              store: runtime.store,
              shops: runtime.shops,
              vault: runtime.vault,
              adapters: platformAdapters,
            }),
        },
        WorkersService,
      ],
    };
  }
}
