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
