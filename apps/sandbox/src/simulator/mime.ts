/**
 * Just enough MIME to read what the SMTP sink received (nodemailer's output: single part or
 * multipart/alternative, 7bit / quoted-printable / base64 parts): the text and HTML bodies.
 */

function headerBlock(part: string): { headers: Record<string, string>; body: string } {
  const end = part.search(/\r?\n\r?\n/);
  const block = (end < 0 ? part : part.slice(0, end)).replace(/\r?\n[ \t]+/g, ' ');
  const body = end < 0 ? '' : part.slice(end).replace(/^\r?\n\r?\n/, '');
  const headers: Record<string, string> = {};
  for (const line of block.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] ??= line.slice(i + 1).trim();
  }
  return { headers, body };
}

export function decodeQuotedPrintable(text: string): string {
  const joined = text.replace(/=\r?\n/g, '');
  const bytes: number[] = [];
  for (let i = 0; i < joined.length; i++) {
    const c = joined[i] as string;
    const hex = c === '=' ? joined.slice(i + 1, i + 3) : '';
    if (/^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      for (const b of Buffer.from(c, 'utf8')) bytes.push(b);
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

function decodePart(headers: Record<string, string>, body: string): string {
  const encoding = (headers['content-transfer-encoding'] ?? '7bit').toLowerCase();
  if (encoding === 'quoted-printable') return decodeQuotedPrintable(body);
  if (encoding === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  return body;
}

export interface MailBodies {
  readonly text: string;
  readonly html: string;
}

/** The text/plain and text/html bodies of a raw message (empty strings when absent). */
export function mailBodies(raw: string): MailBodies {
  const out = { text: '', html: '' };
  const visit = (part: string, depth: number): void => {
    const { headers, body } = headerBlock(part);
    const type = (headers['content-type'] ?? 'text/plain').toLowerCase();
    const boundary = /boundary="?([^";]+)"?/i.exec(headers['content-type'] ?? '')?.[1];
    if (type.startsWith('multipart/') && boundary !== undefined && depth < 5) {
      const pieces = body.split(`--${boundary}`);
      for (const piece of pieces.slice(1)) {
        if (piece.startsWith('--')) break;
        visit(piece.replace(/^\r?\n/, ''), depth + 1);
      }
      return;
    }
    if (type.startsWith('text/html') && out.html === '') out.html = decodePart(headers, body);
    else if (type.startsWith('text/plain') && out.text === '') out.text = decodePart(headers, body);
  };
  visit(raw, 0);
  return out;
}

/** Tracked links of the appliance in a body: `/t/c/<token>` clicks, `/t/o/<token>.gif` opens. */
export function trackedLinks(body: string): { clicks: string[]; opens: string[] } {
  const unescape = (u: string) => u.replace(/&amp;/g, '&');
  const clicks = [...body.matchAll(/https?:\/\/[^\s"'<>]+\/t\/c\/[A-Za-z0-9._~%-]+/g)].map((m) => unescape(m[0]));
  const opens = [...body.matchAll(/https?:\/\/[^\s"'<>]+\/t\/o\/[A-Za-z0-9._~%-]+\.gif/g)].map((m) => unescape(m[0]));
  return { clicks: [...new Set(clicks)], opens: [...new Set(opens)] };
}

/** Discount codes created by the store adapters (`RECLAIM-` + 16 base32 characters). */
export function discountCodesIn(body: string): string[] {
  return [...new Set([...body.matchAll(/\bRECLAIM-[A-Z2-7]{16}\b/g)].map((m) => m[0]))];
}
