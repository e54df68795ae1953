/** A support ticket to open at the merchant's help desk. Adapters: libs/providers (Gorgias, Zendesk). */
export interface TicketRequest {
  /** `<recoveryId>:ticket` (Zendesk Idempotency-Key; Gorgias: looked up before creating). */
  readonly idempotencyKey: string;
  readonly shopId: string;
  readonly cartId: string;
  readonly subject: string;
  readonly body: string;
  /** Opened from the vault just before the call, when known. */
  readonly customerEmail?: string;
}

/** Throws the typed provider errors of `./errors`. */
export interface TicketPort {
  open(request: TicketRequest): Promise<{ readonly ticketId: string }>;
}

/** The help desks whose tickets the appliance reads. */
export type SupportDesk = 'gorgias' | 'zendesk';

/**
 * One of the customer's own tickets as the help desk lists it. The words are for reading the
 * ticket against the cart right away (which products it names); they are never stored.
 */
export interface CustomerTicket {
  readonly ticketId: string;
  readonly subject?: string;
  /** The description or latest message excerpt, as plain text. */
  readonly text?: string;
}

/**
 * Reading the customer's own tickets (support-aware copy). Lookups use a short timeout and no
 * retry: a send never waits long for the help desk; failures throw the typed provider errors.
 */
export interface CustomerTicketLookup {
  readonly desk: SupportDesk;
  /** The open (not solved, not closed) tickets whose requester has this e-mail address, newest first. */
  openTicketsOf(email: string): Promise<readonly CustomerTicket[]>;
  /** The requester's e-mail of a ticket (help-desk webhooks name the ticket only); `undefined` when it has none or is gone. */
  requesterOf(ticketId: string): Promise<string | undefined>;
}
