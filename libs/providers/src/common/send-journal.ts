/**
 * What a channel adapter knows about its own sends, for `lookup` when the provider cannot be asked
 * by idempotency key (SMTP, Twilio). The default keeps it in memory: it forgets everything on a
 * restart, so a key it does not know is answered `unknown`, never `not-sent`. A durable
 * implementation (a table) can set `durable: true`.
 */
export type SendJournalEntry =
  | { readonly state: 'attempted'; readonly at: number }
  | { readonly state: 'accepted'; readonly messageId: string; readonly at: number }
  | { readonly state: 'refused'; readonly at: number };

export interface SendJournal {
  /** True when entries survive a restart: an unknown key then means "never attempted". */
  readonly durable: boolean;
  record(idempotencyKey: string, entry: SendJournalEntry): Promise<void>;
  get(idempotencyKey: string): Promise<SendJournalEntry | undefined>;
}

export class InMemorySendJournal implements SendJournal {
  readonly durable = false;
  private readonly entries = new Map<string, SendJournalEntry>();

  constructor(private readonly maxEntries = 100_000) {}

  async record(idempotencyKey: string, entry: SendJournalEntry): Promise<void> {
    const current = this.entries.get(idempotencyKey);
    if (current?.state === 'accepted' && entry.state !== 'accepted') return;
    this.entries.delete(idempotencyKey);
    this.entries.set(idempotencyKey, entry);
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
  }

  async get(idempotencyKey: string): Promise<SendJournalEntry | undefined> {
    return this.entries.get(idempotencyKey);
  }
}
