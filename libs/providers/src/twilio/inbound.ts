/**
 * Inbound SMS replies (R26). Twilio's default opt-out keywords (STOP, STOPALL, UNSUBSCRIBE, CANCEL,
 * END, QUIT, REVOKE, OPTOUT, OPT OUT…) are handled by Twilio itself, which also sends the single
 * confirmation; anything else that plainly asks to stop ("please stop", "Stop!!", "stop texting
 * me") is also an opt-out, but Twilio did not confirm it, so `confirmationRequired` is true.
 */
export type InboundIntent = 'opt-out' | 'opt-in' | 'help' | 'message';

export interface InboundSms {
  readonly intent: InboundIntent;
  /** The keyword as normalised ("stop", "opt out"…), when one matched. */
  readonly keyword?: string;
  /** Twilio handles (and confirms) its default keywords; for others we must confirm once ourselves. */
  readonly confirmationRequired: boolean;
  readonly from?: string;
  readonly to?: string;
  readonly messageSid?: string;
}

const OPT_OUT = ['stop', 'stopall', 'unsubscribe', 'cancel', 'end', 'quit', 'revoke', 'optout', 'opt out', 'opt-out'];
const OPT_IN = ['start', 'unstop', 'yes', 'subscribe'];
const HELP = ['help', 'info'];
/** Twilio's own defaults (it confirms these itself). */
const TWILIO_DEFAULTS = new Set([
  'stop',
  'stopall',
  'unsubscribe',
  'cancel',
  'end',
  'quit',
  'revoke',
  'optout',
  'start',
  'unstop',
  'yes',
  'help',
  'info',
]);

const FILLER = new Set([
  'please',
  'pls',
  'plz',
  'now',
  'thanks',
  'thank',
  'you',
  'thx',
  'kindly',
  'just',
  'me',
  'it',
  'all',
]);
const STOP_PHRASES = [
  /^(please )?stop (texting|messaging|sending|contacting)( me)?( please)?$/,
  /^(please )?(unsubscribe|remove|opt) me( out)?( please)?$/,
];

function normalise(body: string): string {
  return body
    .normalize('NFKC')
    .replace(/[\u200B-\u200D\uFEFF]/g, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s-]/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** The intent of a reply body alone. */
export function classifyReply(body: string): Pick<InboundSms, 'intent' | 'keyword' | 'confirmationRequired'> {
  const text = normalise(body);
  // Twilio only acts on a body that is exactly a keyword (case-insensitive, surrounding spaces ignored).
  const twilioHandled = TWILIO_DEFAULTS.has(body.trim().toLowerCase());
  const match = (list: readonly string[]): string | undefined => {
    if (list.includes(text)) return text;
    // A keyword with only polite filler around it: "please stop", "stop please", "cancel now".
    const words = text.split(' ');
    const core = words.filter((w) => !FILLER.has(w)).join(' ');
    return words.length <= 5 && list.includes(core) ? core : undefined;
  };
  const optOut = match(OPT_OUT);
  if (optOut !== undefined) return { intent: 'opt-out', keyword: optOut, confirmationRequired: !twilioHandled };
  if (STOP_PHRASES.some((re) => re.test(text))) return { intent: 'opt-out', keyword: text, confirmationRequired: true };
  const optIn = match(OPT_IN);
  if (optIn !== undefined) return { intent: 'opt-in', keyword: optIn, confirmationRequired: !twilioHandled };
  const help = match(HELP);
  if (help !== undefined) return { intent: 'help', keyword: help, confirmationRequired: !twilioHandled };
  return { intent: 'message', confirmationRequired: false };
}

/**
 * An inbound-message webhook's parameters (verify the signature first). Twilio's Advanced Opt-Out
 * sends `OptOutType` (STOP/START/HELP) when it matched a keyword configured there: that wins.
 */
export function parseInboundSms(params: Readonly<Record<string, string | readonly string[]>>): InboundSms {
  const one = (k: string): string | undefined => {
    const v = params[k];
    return typeof v === 'string' ? v : v?.[0];
  };
  const base = { from: one('From'), to: one('To'), messageSid: one('MessageSid') ?? one('SmsSid') };
  const optOutType = one('OptOutType')?.toUpperCase();
  if (optOutType === 'STOP')
    return { ...base, intent: 'opt-out', keyword: normalise(one('Body') ?? ''), confirmationRequired: false };
  if (optOutType === 'START')
    return { ...base, intent: 'opt-in', keyword: normalise(one('Body') ?? ''), confirmationRequired: false };
  if (optOutType === 'HELP')
    return { ...base, intent: 'help', keyword: normalise(one('Body') ?? ''), confirmationRequired: false };
  return { ...base, ...classifyReply(one('Body') ?? '') };
}
