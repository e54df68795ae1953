/**
 * The real appliance in this process (as `test/support/harness.ts` does): `loadConfig(env)` →
 * `createRuntime` → `createApp`, listening on 127.0.0.1. Without `DATABASE_URL` in `env` it runs
 * the embedded PostgreSQL under `DATA_DIR`.
 */
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createApp } from '../../reclaim/src/bootstrap';
import { loadConfig } from '../../reclaim/src/config/app-config';
import { createLogger } from '../../reclaim/src/logging';
import { createRuntime, type Runtime } from '../../reclaim/src/runtime/runtime';

export interface InProcessAppliance {
  readonly url: string;
  readonly runtime: Runtime;
  readonly app: NestFastifyApplication;
  close(): Promise<void>;
}

export async function startInProcessAppliance(env: Record<string, string>): Promise<InProcessAppliance> {
  const config = loadConfig(env);
  const log = createLogger(config.LOG_LEVEL);
  const runtime = await createRuntime(config, { log });
  let app: NestFastifyApplication;
  try {
    app = await createApp(runtime, log);
    await app.listen({ port: config.PORT, host: '127.0.0.1' });
  } catch (err) {
    await runtime.close();
    throw err;
  }
  const { port } = app.getHttpServer().address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    runtime,
    app,
    close: async () => {
      await app.close();
      await runtime.close();
    },
  };
}
