/** What one input of a batch came to: its value, or the error that input alone failed with. */
export type BatchOutcome<Output> = { ok: true; value: Output } | { ok: false; error: unknown };

export interface BatcherOptions<Input, Output> {
  /** Handles a batch; answers one outcome per input, in order. Throwing fails every input of the batch. */
  handle(inputs: Input[]): Promise<BatchOutcome<Output>[]>;
  /**
   * Inputs of one key are handled one batch after another, never in one batch nor in two at once: the later waits for
   * the batch of the earlier to end (an agent's two posts, say, in order, the second not blocked on the first's locks).
   */
  keyOf(input: Input): string;
  /** At most this many inputs a batch. */
  maxBatch: number;
  /** At most this many batches under way at once; inputs arriving meanwhile gather for the next. */
  concurrency: number;
}

interface Waiting<Input, Output> {
  input: Input;
  resolve(value: Output): void;
  reject(error: unknown): void;
}

/**
 * Gathers concurrent calls into batches: what arrives during one turn of the event loop, or while `concurrency`
 * batches are already under way, is handled together. Unlike DataLoader (which batches one tick's loads and knows
 * nothing of batches in flight), it lets a backlog grow into larger batches when the handler is the bottleneck, which
 * is when batching pays, and keeps inputs of one key in order across batches.
 */
export class Batcher<Input, Output> {
  private readonly waiting: Waiting<Input, Output>[] = [];
  /** The keys of the batches under way. */
  private readonly busyKeys = new Set<string>();
  private underWay = 0;
  private scheduled = false;

  constructor(private readonly options: BatcherOptions<Input, Output>) {}

  submit(input: Input): Promise<Output> {
    return new Promise<Output>((resolve, reject) => {
      this.waiting.push({ input, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.underWay >= this.options.concurrency || this.waiting.length === 0) return;
    this.scheduled = true;
    // After the event loop's I/O: the requests read in this turn join the batch.
    setImmediate(() => {
      this.scheduled = false;
      this.startBatch();
    });
  }

  private startBatch(): void {
    if (this.underWay >= this.options.concurrency) return;
    const { batch, keys } = this.take();
    if (batch.length === 0) return;
    this.underWay++;
    for (const key of keys) this.busyKeys.add(key);
    void this.run(batch).finally(() => {
      this.underWay--;
      for (const key of keys) this.busyKeys.delete(key);
      this.schedule();
    });
    // Room for another batch, and inputs left (more than one batch's worth, or held back by their key): start it too.
    this.schedule();
  }

  /** Up to maxBatch waiting inputs, oldest first, no two of one key nor any of a batch under way (those stay, in order). */
  private take(): { batch: Waiting<Input, Output>[]; keys: string[] } {
    const batch: Waiting<Input, Output>[] = [];
    const keys = new Set<string>();
    const kept: Waiting<Input, Output>[] = [];
    for (const waiting of this.waiting) {
      const key = this.options.keyOf(waiting.input);
      if (batch.length >= this.options.maxBatch || keys.has(key) || this.busyKeys.has(key)) kept.push(waiting);
      else {
        keys.add(key);
        batch.push(waiting);
      }
    }
    this.waiting.splice(0, this.waiting.length, ...kept);
    return { batch, keys: [...keys] };
  }

  private async run(batch: Waiting<Input, Output>[]): Promise<void> {
    let outcomes: BatchOutcome<Output>[];
    try {
      outcomes = await this.options.handle(batch.map((waiting) => waiting.input));
    } catch (error) {
      outcomes = batch.map(() => ({ ok: false, error }));
    }
    batch.forEach((waiting, index) => {
      const outcome = outcomes[index];
      if (outcome.ok) waiting.resolve(outcome.value);
      else waiting.reject(outcome.error);
    });
  }
}
