import type { Notification, Pool, PoolClient } from 'pg';

export interface ListenHandlers {
  /** Called for each notification on one of the channels. */
  readonly onNotify: (channel: string, payload: string | undefined) => void;
  /**
   * Called with `true` once LISTEN is in place (anything that changed while nobody listened should be
   * treated as changed now) and with `false` when the connection is lost or the loop stops.
   */
  readonly onListening?: (listening: boolean) => void;
}

/**
 * LISTENs on `channels` with one dedicated connection until `signal` aborts; reconnects after
 * `retryMs` when the connection fails. The one LISTEN loop behind every cache invalidation and
 * wake-up in the application (settings, live models, timers), so reconnect and release rules live
 * in one place: a healthy connection goes back to the pool after UNLISTEN, a failed one is
 * destroyed.
 */
export async function listenForNotifications(
  pool: Pool,
  channels: readonly string[],
  handlers: ListenHandlers,
  signal: AbortSignal,
  retryMs = 1_000,
): Promise<void> {
  while (!signal.aborted) {
    let client: PoolClient | undefined;
    try {
      client = await pool.connect();
      const c = client;
      const listener = (n: Notification) => handlers.onNotify(n.channel, n.payload);
      c.on('notification', listener);
      for (const ch of channels) await c.query(`LISTEN "${ch}"`);
      handlers.onListening?.(true);
      await new Promise<void>((resolve) => {
        const done = () => resolve();
        signal.addEventListener('abort', done, { once: true });
        c.once('error', done);
        c.once('end', done);
      });
      handlers.onListening?.(false);
      c.removeListener('notification', listener);
      if (signal.aborted) {
        await c.query('UNLISTEN *').catch(() => undefined);
        c.release();
      } else c.release(true);
      client = undefined;
    } catch {
      handlers.onListening?.(false);
      client?.release(true);
    }
    if (!signal.aborted) await new Promise((r) => setTimeout(r, retryMs));
  }
}
