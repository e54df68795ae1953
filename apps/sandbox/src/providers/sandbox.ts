/**
 * The provider sandbox: one HTTP server with a stand-in per provider under its own prefix
 * (`/klaviyo`, `/twilio`, `/gorgias`, `/zendesk`: the adapters' `*_URL`), an SMTP sink, and a
 * control API:
 *
 * - `GET /__sandbox/requests?provider=` → what each stand-in received (authorization redacted);
 * - `POST /__sandbox/klaviyo/engagement` `{uniqueId, kind: opened|clicked|bounced, url?}`: Klaviyo's flow
 *   reports engagement on the message of a Reclaim event (read back by the engagement poller);
 * - `POST /__sandbox/faults` `{provider, method?, path?, kind, status?, retryAfter?, delayMs?, times?}`,
 *   `GET` lists, `DELETE` clears;
 * - `POST /__sandbox/twilio/opt-outs` `{phone}` → later sends to it get 21610;
 * - `POST /__sandbox/{zendesk|gorgias}/tickets` `{email, subject, body}`: a shopper files a ticket;
 *   `POST /__sandbox/{zendesk|gorgias}/tickets/{id}/status` `{status}`: an agent changes its status;
 *   `POST /__sandbox/{zendesk|gorgias}/webhook` `{url, secret}`: ticket webhooks (Zendesk, signed)
 *   or the HTTP integration (Gorgias, shared secret) go to `url`;
 * - `GET /__sandbox/mail` (HTML list of the sink's messages), `GET /__sandbox/mail.json`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import {
  FaultBook,
  type Fault,
  isObj,
  parseJson,
  type ProviderName,
  readBody,
  type ReceivedRequest,
  type StandIn,
  writeResponse,
} from './kit';
import { GorgiasStandIn } from './gorgias.stand-in';
import { type KlaviyoSeedProfile, KlaviyoStandIn, type KlaviyoStandInOptions } from './klaviyo.stand-in';
import { type SinkMessage, SmtpSink } from './smtp-sink';
import { TwilioStandIn } from './twilio.stand-in';
import { ZendeskStandIn } from './zendesk.stand-in';

export interface ProviderSandboxCredentials {
  readonly klaviyoApiKey: string;
  readonly twilioAccountSid: string;
  readonly twilioAuthToken: string;
  readonly twilioFrom: string;
  readonly gorgiasEmail: string;
  readonly gorgiasApiKey: string;
  readonly zendeskEmail: string;
  readonly zendeskApiToken: string;
  readonly smtpUser: string;
  readonly smtpPassword: string;
}

export const DEFAULT_SANDBOX_CREDENTIALS: ProviderSandboxCredentials = {
  klaviyoApiKey: 'pk_sandbox_0123456789abcdef',
  twilioAccountSid: 'AC0123456789abcdef0123456789abcdef',
  twilioAuthToken: 'sandbox-twilio-auth-token',
  twilioFrom: '+15005550006',
  gorgiasEmail: 'agent@sandbox.example',
  gorgiasApiKey: 'sandbox-gorgias-key',
  zendeskEmail: 'agent@sandbox.example',
  zendeskApiToken: 'sandbox-zendesk-token',
  smtpUser: 'reclaim',
  smtpPassword: 'sandbox-smtp-password',
};

export interface ProviderSandboxOptions {
  /** HTTP port (0 = any free port). */
  readonly port?: number;
  /** SMTP sink port (0 = any free port). */
  readonly smtpPort?: number;
  readonly host?: string;
  readonly credentials?: Partial<ProviderSandboxCredentials>;
  readonly klaviyoProfiles?: readonly KlaviyoSeedProfile[];
  /** Lower Klaviyo rate limits (the documented ones otherwise): 429 with Retry-After beyond them. */
  readonly klaviyoRateLimits?: KlaviyoStandInOptions['rateLimits'];
  /** POST signed status callbacks when a message names a StatusCallback (default true). */
  readonly twilioStatusCallbacks?: boolean;
}

export interface ProviderSandbox {
  readonly urls: {
    readonly klaviyo: string;
    readonly twilio: string;
    readonly gorgias: string;
    readonly zendesk: string;
    /** `smtp://user:password@host:port`, ready for `SMTP_URL`. */
    readonly smtp: string;
    readonly control: string;
    readonly mailPage: string;
  };
  readonly credentials: ProviderSandboxCredentials;
  readonly stores: {
    readonly klaviyo: KlaviyoStandIn;
    readonly twilio: TwilioStandIn;
    readonly gorgias: GorgiasStandIn;
    readonly zendesk: ZendeskStandIn;
    readonly mail: readonly SinkMessage[];
  };
  received(provider?: ProviderName): ReceivedRequest[];
  injectFault(fault: Fault): void;
  clearFaults(): void;
  stop(): Promise<void>;
}

function escapeHtml(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );
}

function mailPage(messages: readonly SinkMessage[]): string {
  const rows = messages
    .slice()
    .reverse()
    .map(
      (m) =>
        `<tr><td>${m.id}</td><td>${escapeHtml(m.receivedAt)}</td><td>${escapeHtml(m.to.join(', '))}</td>` +
        `<td>${escapeHtml(m.headers.subject ?? '')}</td><td><code>${escapeHtml(m.headers['message-id'] ?? '')}</code></td>` +
        `<td>${m.headers['list-unsubscribe'] ? 'yes' : 'no'}</td><td>${m.headers['dkim-signature'] ? 'yes' : 'no'}</td></tr>`,
    )
    .join('\n');
  return `<!doctype html><html><head><meta charset="utf-8"><title>Reclaim sandbox mail</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3rem .6rem;text-align:left}</style>
</head><body><h1>Sandbox mail (${messages.length})</h1>
<table><thead><tr><th>#</th><th>received</th><th>to</th><th>subject</th><th>Message-ID</th><th>List-Unsubscribe</th><th>DKIM</th></tr></thead>
<tbody>${rows}</tbody></table></body></html>`;
}

export async function startProviderSandbox(options: ProviderSandboxOptions = {}): Promise<ProviderSandbox> {
  const host = options.host ?? '127.0.0.1';
  const credentials: ProviderSandboxCredentials = { ...DEFAULT_SANDBOX_CREDENTIALS, ...options.credentials };
  const faults = new FaultBook();
  const log: ReceivedRequest[] = [];
  const klaviyo = new KlaviyoStandIn(credentials.klaviyoApiKey, options.klaviyoProfiles, {
    ...(options.klaviyoRateLimits !== undefined ? { rateLimits: options.klaviyoRateLimits } : {}),
  });
  const twilio = new TwilioStandIn(
    credentials.twilioAccountSid,
    credentials.twilioAuthToken,
    options.twilioStatusCallbacks ?? true,
  );
  const gorgias = new GorgiasStandIn(credentials.gorgiasEmail, credentials.gorgiasApiKey);
  const zendesk = new ZendeskStandIn(credentials.zendeskEmail, credentials.zendeskApiToken);
  const standIns: Record<string, StandIn> = { klaviyo, twilio, gorgias, zendesk };
  const sink = new SmtpSink(credentials.smtpUser, credentials.smtpPassword, faults);
  const sockets = new Set<Socket>();

  async function control(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const json = (status: number, body: unknown) => writeResponse(res, { status, body });
    const route = url.pathname.replace(/^\/__sandbox/, '');
    if (route === '/requests' && req.method === 'GET') {
      const p = url.searchParams.get('provider');
      return json(200, p === null ? log : log.filter((r) => r.provider === p));
    }
    if (route === '/faults') {
      if (req.method === 'GET') return json(200, faults.list());
      if (req.method === 'DELETE') {
        faults.clear();
        return json(204, undefined);
      }
      if (req.method === 'POST') {
        const parsed = parseJson(await readBody(req));
        if (!parsed.ok || !isObj(parsed.value)) return json(400, { error: 'JSON fault expected' });
        try {
          faults.add(parsed.value as unknown as Fault);
        } catch (err) {
          return json(400, { error: (err as Error).message });
        }
        return json(201, parsed.value);
      }
    }
    if (route === '/klaviyo/engagement' && req.method === 'POST') {
      // What the merchant's Klaviyo flow would report for a Reclaim event: an open, a click, a bounce or a spam complaint.
      const parsed = parseJson(await readBody(req));
      const v = parsed.ok && isObj(parsed.value) ? parsed.value : undefined;
      if (
        !v ||
        typeof v.uniqueId !== 'string' ||
        !['opened', 'clicked', 'bounced', 'complained'].includes(v.kind as string)
      ) {
        return json(400, { error: 'uniqueId and kind (opened, clicked, bounced, complained) expected' });
      }
      try {
        const record = klaviyo.engage(v.uniqueId, v.kind as 'opened' | 'clicked' | 'bounced' | 'complained', {
          ...(typeof v.url === 'string' ? { url: v.url } : {}),
        });
        return json(201, record);
      } catch (err) {
        return json(404, { error: (err as Error).message });
      }
    }
    if (route === '/twilio/opt-outs' && req.method === 'POST') {
      const parsed = parseJson(await readBody(req));
      if (!parsed.ok || !isObj(parsed.value) || typeof parsed.value.phone !== 'string')
        return json(400, { error: 'phone expected' });
      twilio.optOut(parsed.value.phone);
      return json(201, { phone: parsed.value.phone });
    }
    const desk = /^\/(zendesk|gorgias)\/(tickets|webhook)(?:\/(\d+)\/status)?$/.exec(route);
    if (desk && req.method === 'POST') {
      const parsed = parseJson(await readBody(req));
      const v = parsed.ok && isObj(parsed.value) ? parsed.value : undefined;
      const str = (k: string) =>
        v !== undefined && typeof v[k] === 'string' && v[k] !== '' ? (v[k] as string) : undefined;
      const name = desk[1] as 'zendesk' | 'gorgias';
      if (desk[2] === 'webhook') {
        const hookUrl = str('url');
        const secret = str('secret');
        if (hookUrl === undefined || secret === undefined) return json(400, { error: 'url and secret expected' });
        if (name === 'zendesk') zendesk.subscribeWebhook(hookUrl, secret);
        else gorgias.subscribeHttpIntegration(hookUrl, secret);
        return json(201, { url: hookUrl });
      }
      if (desk[3] !== undefined) {
        const status = str('status');
        const allowed =
          name === 'zendesk' ? ['new', 'open', 'pending', 'hold', 'solved', 'closed'] : ['open', 'closed'];
        if (status === undefined || !allowed.includes(status)) {
          return json(400, { error: `status expected: ${allowed.join(', ')}` });
        }
        const id = Number(desk[3]);
        const t =
          name === 'zendesk'
            ? zendesk.setStatus(id, status as Parameters<ZendeskStandIn['setStatus']>[1])
            : gorgias.setStatus(id, status as 'open' | 'closed');
        return t === undefined ? json(404, { error: 'no such ticket' }) : json(200, { id, status });
      }
      const email = str('email');
      const subject = str('subject');
      const text = str('body');
      if (email === undefined || subject === undefined || text === undefined) {
        return json(400, { error: 'email, subject and body expected' });
      }
      const t =
        name === 'zendesk'
          ? zendesk.openCustomerTicket({ email, subject, description: text })
          : gorgias.openCustomerTicket({ email, subject, body: text });
      return json(201, { id: t.id });
    }
    if (route === '/mail' && req.method === 'GET') {
      return writeResponse(res, {
        status: 200,
        body: mailPage(sink.messages),
        contentType: 'text/html; charset=utf-8',
      });
    }
    if (route === '/mail.json' && req.method === 'GET') return json(200, sink.messages);
    return json(404, { error: 'not found' });
  }

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sandbox');
    if (url.pathname.startsWith('/__sandbox/')) return control(req, res, url);
    const m = /^\/(klaviyo|twilio|gorgias|zendesk)(\/.*)?$/.exec(url.pathname);
    const standIn = m ? standIns[m[1]!] : undefined;
    if (!m || !standIn) return writeResponse(res, { status: 404, body: { error: 'unknown provider' } });
    const raw = await readBody(req);
    const sreq = { method: req.method ?? 'GET', path: m[2] ?? '/', query: url.searchParams, headers: req.headers, raw };
    const record = (status: number) => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers))
        if (typeof v === 'string') headers[k] = k === 'authorization' ? '<present>' : v;
      log.push({
        provider: standIn.name,
        method: sreq.method,
        path: sreq.path,
        query: Object.fromEntries(url.searchParams),
        headers,
        body: raw.length > 0 ? standIn.recordBody(sreq) : undefined,
        status,
        at: new Date().toISOString(),
      });
    };
    const fault = faults.take(standIn.name, sreq.method, sreq.path);
    if (fault?.kind === 'hang') {
      record(0);
      return; // never answers; the socket is destroyed on stop()
    }
    if (fault?.kind === 'status') {
      record(fault.status!);
      const headers: Record<string, string> = fault.retryAfter !== undefined ? { 'retry-after': fault.retryAfter } : {};
      return writeResponse(res, { status: fault.status!, headers, body: standIn.errorBody(fault.status!) });
    }
    if (fault?.kind === 'latency') await new Promise((r) => setTimeout(r, Math.min(fault.delayMs ?? 1000, 60_000)));
    const answer = await standIn.handle(sreq);
    record(answer.status);
    if (fault?.kind === 'process-then-hang') return;
    writeResponse(res, answer);
  }

  const server: Server = createServer((req, res) => {
    serve(req, res).catch(() => {
      if (!res.headersSent) writeResponse(res, { status: 500, body: { error: 'sandbox error' } });
      else res.destroy();
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  let smtpPort: number;
  try {
    smtpPort = await sink.start(options.smtpPort ?? 0, host);
  } catch (err) {
    await new Promise((r) => server.close(r));
    throw err;
  }
  const base = `http://${host}:${port}`;
  const enc = encodeURIComponent;
  return {
    urls: {
      klaviyo: `${base}/klaviyo`,
      twilio: `${base}/twilio`,
      gorgias: `${base}/gorgias`,
      zendesk: `${base}/zendesk`,
      smtp: `smtp://${enc(credentials.smtpUser)}:${enc(credentials.smtpPassword)}@${host}:${smtpPort}`,
      control: `${base}/__sandbox`,
      mailPage: `${base}/__sandbox/mail`,
    },
    credentials,
    stores: { klaviyo, twilio, gorgias, zendesk, mail: sink.messages },
    received: (provider) => (provider === undefined ? [...log] : log.filter((r) => r.provider === provider)),
    injectFault: (fault) => faults.add(fault),
    clearFaults: () => faults.clear(),
    stop: async () => {
      await sink.stop();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
