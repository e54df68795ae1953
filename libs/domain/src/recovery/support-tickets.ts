/**
 * Support-aware messaging: the customer's *own* tickets at the help desk (Gorgias, Zendesk), looked
 * up by the application at send time or when the help desk calls back, decide the copy. While one
 * of them is open and concerns this cart (it names one of the cart's products, the cart or an
 * order — or, with `supportTicketMatch: 'any'`, whatever it says), steps use the help variant or,
 * with `pauseWhileTicketOpen`, wait; when it closes, the sales copy comes back (or the recovery
 * resumes). The appliance's own proactive ticket for a high-value cart never switches the copy.
 *
 * Only the verdict is recorded (`recovery.support-checked`, `.customer-ticket-opened`,
 * `.customer-ticket-closed`): ticket ids and what matched, never the ticket's words.
 */
import type { CartSnapshot } from './types';

/** `mentions`: only a ticket naming the cart's products, the cart or an order; `any`: every open ticket. */
export type SupportTicketMatch = 'mentions' | 'any';
export const SUPPORT_TICKET_MATCHES: readonly SupportTicketMatch[] = ['mentions', 'any'];

export type SupportSource = 'gorgias' | 'zendesk';

/** Why an open ticket of the customer counts for this cart. */
export type TicketConcern = 'product' | 'cart' | 'order' | 'any';

/** What the help desk said about one of the customer's open tickets, as the application reads it. */
export interface CustomerTicketText {
  readonly ticketId: string;
  readonly subject?: string;
  /** The ticket's description / first message, as plain text. */
  readonly text?: string;
}

/** One open ticket of the customer, as recorded: its id and why it concerns the cart (no text). */
export interface CustomerTicketFact {
  readonly ticketId: string;
  readonly concern: TicketConcern;
  /** `product`: the product ids the ticket named. */
  readonly productIds?: readonly string[];
}

/** Why a lookup gave no answer. */
export type SupportLookupFailure = 'timeout' | 'unavailable' | 'refused' | 'bad-response' | 'no-email';

export type SupportLookupResult =
  | {
      readonly kind: 'found';
      /** Open tickets of the customer (all of them, concerning or not). */
      readonly openTickets: number;
      /** The open ones concerning this cart. */
      readonly concerning: readonly CustomerTicketFact[];
    }
  | { readonly kind: 'unavailable'; readonly reason: SupportLookupFailure; readonly code?: string };

const normalise = (s: string): string =>
  s
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^\p{L}\p{N}#]+/gu, ' ')
    .trim();

/** Whole-word (or whole-phrase) containment on normalised text. */
function mentions(haystack: string, needle: string): boolean {
  const n = normalise(needle);
  if (n.length < 3) return false;
  return ` ${haystack} `.includes(` ${n} `);
}

/**
 * The names a shopper may use for a line: its title, and without the variant the title carries
 * (`Desk lamp (Brass)`, `Desk lamp - Brass`, `Desk lamp / Brass` → `Desk lamp`).
 */
function namesOf(title: string): string[] {
  const base = title.replace(/\s*\([^)]*\)\s*$/, '').split(/\s+[-–—/|]\s+/)[0] ?? title;
  return base.trim() === title.trim() ? [title] : [title, base];
}

/** Order references like `#1001`, `order 1001`, `order no. 1001`, `bestellung 1001`. */
const ORDER_REFERENCE =
  /(?:#\s?\d{3,}|\b(?:order|commande|bestellung|pedido|ordine)\b\s*(?:no\.?|nr\.?|number|num\.?)?\s*#?\s*\d{3,})/iu;

/**
 * Whether an open ticket of the customer concerns this cart, and why: with `any`, every open ticket
 * does; with `mentions`, a ticket that names one of the cart's products (title, product or variant
 * id), the cart's own id, or an order (a number such as `#1001` or `order 1001`).
 */
export function ticketConcern(
  ticket: CustomerTicketText,
  cart: Pick<CartSnapshot, 'items'>,
  cartId: string,
  match: SupportTicketMatch,
): CustomerTicketFact | undefined {
  const raw = `${ticket.subject ?? ''}\n${ticket.text ?? ''}`;
  const text = normalise(raw);
  const productIds = [
    ...new Set(
      cart.items
        .filter(
          (i) =>
            (i.title !== undefined && namesOf(i.title).some((name) => mentions(text, name))) ||
            mentions(text, i.productId) ||
            (i.variantId !== undefined && mentions(text, i.variantId)),
        )
        .map((i) => i.productId),
    ),
  ];
  if (productIds.length > 0) return { ticketId: ticket.ticketId, concern: 'product', productIds };
  if (mentions(text, cartId)) return { ticketId: ticket.ticketId, concern: 'cart' };
  if (ORDER_REFERENCE.test(raw)) return { ticketId: ticket.ticketId, concern: 'order' };
  return match === 'any' ? { ticketId: ticket.ticketId, concern: 'any' } : undefined;
}

/** The lookup's verdict for a recovery: the customer's open tickets read against its cart. */
export function readCustomerTickets(
  tickets: readonly CustomerTicketText[],
  cart: Pick<CartSnapshot, 'items'>,
  cartId: string,
  match: SupportTicketMatch,
): SupportLookupResult {
  const concerning = tickets
    .map((t) => ticketConcern(t, cart, cartId, match))
    .filter((t): t is CustomerTicketFact => t !== undefined);
  return { kind: 'found', openTickets: tickets.length, concerning };
}

/** A qualified ticket id as the recovery keeps it: `<source>:<id>`. */
export const customerTicketKey = (source: SupportSource, ticketId: string): string => `${source}:${ticketId}`;
