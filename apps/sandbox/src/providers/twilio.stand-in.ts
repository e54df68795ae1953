/**
 * Twilio Programmable Messaging stand-in: `POST /2010-04-01/Accounts/{Sid}/Messages.json`
 * (form-encoded, basic auth SID:token), `GET …/Messages.json` (To/From filters, paging, newest
 * first). Errors `{code, message, more_info, status}` with Twilio's codes (20003 auth, 21211 bad
 * To, 21602 no body, 21603 no From, 21604 no To, 21610 unsubscribed recipient, 21617 too long).
 * No idempotency (Twilio has none). With a StatusCallback, a signed `sent` callback is POSTed.
 */
import { createHmac } from 'node:crypto';
import {
  basicCredentials,
  E164,
  mediaType,
  randomHex,
  type StandIn,
  type StandInRequest,
  type StandInResponse,
} from './kit';

export interface TwilioMessageRecord {
  readonly sid: string;
  readonly to: string;
  readonly from: string | null;
  readonly messagingServiceSid: string | null;
  readonly body: string;
  readonly statusCallback: string | null;
  readonly dateCreated: string;
}

const MORE_INFO = 'https://www.twilio.com/docs/errors/';

function twilioError(status: number, code: number, message: string): StandInResponse {
  return { status, body: { code, message, more_info: `${MORE_INFO}${code}`, status } };
}

function signature(authToken: string, url: string, params: Record<string, string>): string {
  let data = url;
  for (const k of Object.keys(params).sort()) data += k + params[k];
  return createHmac('sha1', authToken).update(data, 'utf8').digest('base64');
}

export class TwilioStandIn implements StandIn {
  readonly name = 'twilio' as const;
  readonly messages: TwilioMessageRecord[] = [];
  readonly optedOut = new Set<string>();

  constructor(
    readonly accountSid: string,
    private readonly authToken: string,
    private readonly sendStatusCallbacks = true,
  ) {}

  optOut(phone: string): void {
    this.optedOut.add(phone);
  }

  errorBody(status: number): unknown {
    if (status === 429) return twilioError(429, 20429, 'Too Many Requests').body;
    return twilioError(status, 20500, 'Internal Server Error').body;
  }

  recordBody(req: StandInRequest): unknown {
    return Object.fromEntries(new URLSearchParams(req.raw.toString('utf8')));
  }

  handle(req: StandInRequest): StandInResponse {
    const m = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages\.json$/.exec(req.path);
    const creds = basicCredentials(req);
    if (!creds || creds[0] !== this.accountSid || creds[1] !== this.authToken || (m && m[1] !== creds[0])) {
      return twilioError(401, 20003, 'Authenticate');
    }
    if (!m) return twilioError(404, 20404, 'The requested resource was not found');
    if (req.method === 'POST') return this.create(req);
    if (req.method === 'GET') return this.list(req.query);
    return twilioError(405, 20004, 'Method not allowed');
  }

  private resource(msg: TwilioMessageRecord): Record<string, unknown> {
    const uri = `/2010-04-01/Accounts/${this.accountSid}/Messages/${msg.sid}.json`;
    return {
      account_sid: this.accountSid,
      api_version: '2010-04-01',
      body: msg.body,
      date_created: msg.dateCreated,
      date_sent: null,
      date_updated: msg.dateCreated,
      direction: 'outbound-api',
      error_code: null,
      error_message: null,
      from: msg.from,
      messaging_service_sid: msg.messagingServiceSid,
      num_media: '0',
      num_segments: String(Math.max(1, Math.ceil(msg.body.length / 153))),
      price: null,
      price_unit: 'USD',
      sid: msg.sid,
      status: msg.messagingServiceSid ? 'accepted' : 'queued',
      subresource_uris: { media: uri.replace(/\.json$/, '/Media.json') },
      to: msg.to,
      uri,
    };
  }

  private create(req: StandInRequest): StandInResponse {
    if (mediaType(req) !== 'application/x-www-form-urlencoded')
      return twilioError(400, 21604, "A 'To' phone number is required.");
    const p = new URLSearchParams(req.raw.toString('utf8'));
    const to = p.get('To');
    const from = p.get('From');
    const service = p.get('MessagingServiceSid');
    const body = p.get('Body');
    const callback = p.get('StatusCallback');
    if (to === null || to === '') return twilioError(400, 21604, "A 'To' phone number is required.");
    if (!E164.test(to)) return twilioError(400, 21211, `The 'To' number ${to} is not a valid phone number.`);
    if ((from === null || from === '') && (service === null || service === '')) {
      return twilioError(400, 21603, "A 'From' phone number is required.");
    }
    if (from !== null && from !== '' && !E164.test(from))
      return twilioError(400, 21212, `The 'From' number ${from} is not a valid phone number.`);
    if (service !== null && service !== '' && !/^MG[0-9a-fA-F]{32}$/.test(service)) {
      return twilioError(400, 21701, 'The Messaging Service Sid is invalid.');
    }
    if ((body === null || body === '') && !p.has('MediaUrl') && !p.has('ContentSid'))
      return twilioError(400, 21602, 'Message body is required.');
    if (body !== null && [...body].length > 1600)
      return twilioError(400, 21617, 'The concatenated message body exceeds the 1600 character limit.');
    if (callback !== null) {
      try {
        const u = new URL(callback);
        if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('scheme');
      } catch {
        return twilioError(400, 21609, 'Invalid StatusCallback url.');
      }
    }
    if (this.optedOut.has(to)) return twilioError(400, 21610, 'Attempt to send to unsubscribed recipient');
    const msg: TwilioMessageRecord = {
      sid: `SM${randomHex(32)}`,
      to,
      from: from || null,
      messagingServiceSid: service || null,
      body: body ?? '',
      statusCallback: callback,
      dateCreated: new Date().toUTCString().replace('GMT', '+0000'),
    };
    this.messages.push(msg);
    if (callback !== null && this.sendStatusCallbacks) void this.callback(msg, callback);
    return { status: 201, body: this.resource(msg) };
  }

  private async callback(msg: TwilioMessageRecord, url: string): Promise<void> {
    const params: Record<string, string> = {
      AccountSid: this.accountSid,
      ApiVersion: '2010-04-01',
      From: msg.from ?? '+15005550006',
      MessageSid: msg.sid,
      MessageStatus: 'sent',
      SmsSid: msg.sid,
      SmsStatus: 'sent',
      To: msg.to,
    };
    try {
      await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-twilio-signature': signature(this.authToken, url, params),
        },
        body: new URLSearchParams(params).toString(),
        signal: AbortSignal.timeout(5_000),
      });
    } catch {
      // Twilio does not retry failed status callbacks by default either.
    }
  }

  private list(query: URLSearchParams): StandInResponse {
    const size = Number(query.get('PageSize') ?? '50');
    const page = Number(query.get('Page') ?? '0');
    if (!Number.isInteger(size) || size < 1 || size > 1000 || !Number.isInteger(page) || page < 0) {
      return twilioError(400, 20001, 'Invalid paging parameters');
    }
    const to = query.get('To');
    const from = query.get('From');
    const all = this.messages
      .filter((m) => (to === null || m.to === to) && (from === null || m.from === from))
      .reverse();
    const slice = all.slice(page * size, page * size + size);
    const base = `/2010-04-01/Accounts/${this.accountSid}/Messages.json`;
    const q = (n: number) => {
      const s = new URLSearchParams();
      if (to !== null) s.set('To', to);
      if (from !== null) s.set('From', from);
      s.set('PageSize', String(size));
      s.set('Page', String(n));
      return `${base}?${s.toString()}`;
    };
    const hasNext = (page + 1) * size < all.length;
    return {
      status: 200,
      body: {
        messages: slice.map((m) => this.resource(m)),
        end: page * size + slice.length - 1,
        first_page_uri: q(0),
        next_page_uri: hasNext ? q(page + 1) : null,
        page,
        page_size: size,
        previous_page_uri: page > 0 ? q(page - 1) : null,
        start: page * size,
        uri: q(page),
      },
    };
  }
}
