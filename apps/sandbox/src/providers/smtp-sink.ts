/**
 * SMTP sink (smtp-server): requires AUTH PLAIN/LOGIN with the sandbox credentials, stores every
 * accepted message (raw + the headers tests look at) and can be told to refuse or hang through
 * the shared {@link FaultBook} (`provider: 'smtp'`, `path: 'RCPT'` or `'DATA'`). Recipients whose
 * local part starts with `bounce` get 550, `defer` get 451, as real servers would.
 */
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import type { FaultBook } from './kit';

export interface SinkMessage {
  readonly id: number;
  readonly from: string | undefined;
  readonly to: string[];
  /** Lower-case header names, unfolded; the first of each. */
  readonly headers: Record<string, string>;
  readonly raw: string;
  readonly receivedAt: string;
}

function smtpError(message: string, responseCode: number): Error {
  return Object.assign(new Error(message), { responseCode });
}

/** RFC 2047 encoded words (=?UTF-8?Q?…?= / =?UTF-8?B?…?=) decoded, for display and tests. */
export function decodeMimeWords(value: string): string {
  return value
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?([^?]+)\?([QqBb])\?([^?]*)\?=/g, (_all, _charset: string, enc: string, text: string) => {
      if (enc.toUpperCase() === 'B') return Buffer.from(text, 'base64').toString('utf8');
      const bytes = text.replace(/_/g, ' ').replace(/=([0-9A-Fa-f]{2})/g, (_m, h: string) => `%${h}`);
      try {
        return decodeURIComponent(bytes.replace(/%(?![0-9A-Fa-f]{2})/g, '%25'));
      } catch {
        return text;
      }
    });
}

export function parseHeaders(raw: string): Record<string, string> {
  const end = raw.search(/\r?\n\r?\n/);
  const block = (end < 0 ? raw : raw.slice(0, end)).replace(/\r?\n[ \t]+/g, ' ');
  const out: Record<string, string> = {};
  for (const line of block.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i <= 0) continue;
    const name = line.slice(0, i).trim().toLowerCase();
    out[name] ??= decodeMimeWords(line.slice(i + 1).trim());
  }
  return out;
}

export class SmtpSink {
  readonly messages: SinkMessage[] = [];
  private server: SMTPServer | undefined;
  private readonly hanging = new Set<() => void>();

  constructor(
    private readonly user: string,
    private readonly password: string,
    private readonly faults: FaultBook,
  ) {}

  async start(port = 0, host = '127.0.0.1'): Promise<number> {
    const server = new SMTPServer({
      authMethods: ['PLAIN', 'LOGIN'],
      allowInsecureAuth: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      size: 10 * 1024 * 1024,
      onAuth: (auth, _session, cb) => {
        if (auth.username === this.user && auth.password === this.password) cb(null, { user: auth.username });
        else cb(smtpError('Authentication credentials invalid', 535));
      },
      onRcptTo: (address, _session, cb) => {
        const fault = this.faults.take('smtp', 'RCPT', 'RCPT');
        if (fault?.kind === 'status') return cb(smtpError('Recipient refused', fault.status ?? 550));
        const local = address.address.split('@')[0]?.toLowerCase() ?? '';
        if (local.startsWith('bounce')) return cb(smtpError('5.1.1 Mailbox does not exist', 550));
        if (local.startsWith('defer')) return cb(smtpError('4.2.1 Mailbox temporarily unavailable', 451));
        cb();
      },
      onData: (stream, session, cb) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          const fault = this.faults.take('smtp', 'DATA', 'DATA');
          const raw = Buffer.concat(chunks).toString('utf8');
          const store = () =>
            this.messages.push({
              id: this.messages.length + 1,
              from: session.envelope.mailFrom ? session.envelope.mailFrom.address : undefined,
              to: session.envelope.rcptTo.map((r) => r.address),
              headers: parseHeaders(raw),
              raw,
              receivedAt: new Date().toISOString(),
            });
          if (fault?.kind === 'status') return cb(smtpError('Message refused', fault.status ?? 554));
          if (fault?.kind === 'hang' || fault?.kind === 'process-then-hang') {
            if (fault.kind === 'process-then-hang') store();
            this.hanging.add(() => cb(smtpError('shutting down', 421)));
            return;
          }
          store();
          cb();
        });
      },
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    return (server.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    for (const release of this.hanging) release();
    this.hanging.clear();
    const server = this.server;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
