import pino, { type DestinationStream, type Logger } from 'pino';

/**
 * Structured JSON logs. They never carry personal data or secrets: request logs hold method,
 * route, status and timing only (no bodies, no query strings, no auth or signature headers).
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { app: 'reclaim' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: ['req.headers', 'headers', '*.authorization', '*.apiToken', '*.webhookSecret', '*.email', '*.phone'],
        remove: true,
      },
    },
    destination,
  );
}
