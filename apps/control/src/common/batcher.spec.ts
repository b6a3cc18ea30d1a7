import { BatchOutcome, Batcher } from './batcher';

interface Call {
  key: string;
  value: number;
}

/** A handler whose batches the test ends by hand, recording what each held. */
function recordingHandler() {
  const batches: Call[][] = [];
  const pending: (() => void)[] = [];
  const handle = (inputs: Call[]) => {
    batches.push(inputs);
    return new Promise<BatchOutcome<number>[]>((resolve) =>
      pending.push(() =>
        resolve(inputs.map((input) => (input.value < 0 ? { ok: false, error: new Error(`bad ${input.value}`) } : { ok: true, value: input.value * 2 }))),
      ),
    );
  };
  return { batches, pending, handle };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('Batcher', () => {
  it('handles what is submitted in one turn as one batch, and answers each input with its own outcome', async () => {
    const { batches, pending, handle } = recordingHandler();
    const batcher = new Batcher<Call, number>({ handle, keyOf: (call) => call.key, maxBatch: 10, concurrency: 1 });
    const answers = [1, -2, 3].map((value) => batcher.submit({ key: `k${value}`, value }));
    await turn();
    expect(batches).toEqual([
      [
        { key: 'k1', value: 1 },
        { key: 'k-2', value: -2 },
        { key: 'k3', value: 3 },
      ],
    ]);
    pending.shift()!();
    await expect(Promise.allSettled(answers)).resolves.toEqual([
      { status: 'fulfilled', value: 2 },
      { status: 'rejected', reason: new Error('bad -2') },
      { status: 'fulfilled', value: 6 },
    ]);
  });

  it('gathers what arrives while the batches it may run are under way into the next, up to maxBatch', async () => {
    const { batches, pending, handle } = recordingHandler();
    const batcher = new Batcher<Call, number>({ handle, keyOf: (call) => call.key, maxBatch: 3, concurrency: 1 });
    const answers = [batcher.submit({ key: 'a', value: 1 })];
    await turn();
    for (let value = 2; value <= 6; value++) answers.push(batcher.submit({ key: `k${value}`, value }));
    await turn();
    expect(batches.map((batch) => batch.map((call) => call.value))).toEqual([[1]]);
    pending.shift()!();
    await answers[0];
    await turn();
    await turn();
    expect(batches.map((batch) => batch.map((call) => call.value))).toEqual([[1], [2, 3, 4]]);
    pending.shift()!();
    await turn();
    await turn();
    expect(batches.map((batch) => batch.map((call) => call.value))).toEqual([[1], [2, 3, 4], [5, 6]]);
    pending.shift()!();
    await expect(Promise.all(answers)).resolves.toEqual([2, 4, 6, 8, 10, 12]);
  });

  it('never puts two inputs of one key in one batch, and keeps their order', async () => {
    const { batches, pending, handle } = recordingHandler();
    const batcher = new Batcher<Call, number>({ handle, keyOf: (call) => call.key, maxBatch: 10, concurrency: 1 });
    const answers = [batcher.submit({ key: 'a', value: 1 }), batcher.submit({ key: 'a', value: 2 }), batcher.submit({ key: 'b', value: 3 })];
    await turn();
    pending.shift()!();
    await turn();
    await turn();
    pending.shift()!();
    await Promise.all(answers);
    expect(batches.map((batch) => batch.map((call) => call.value))).toEqual([[1, 3], [2]]);
  });

  it('holds an input back while a batch under way has its key, even with room for another batch', async () => {
    const { batches, pending, handle } = recordingHandler();
    const batcher = new Batcher<Call, number>({ handle, keyOf: (call) => call.key, maxBatch: 10, concurrency: 4 });
    const answers = [batcher.submit({ key: 'a', value: 1 })];
    await turn();
    answers.push(batcher.submit({ key: 'a', value: 2 }), batcher.submit({ key: 'b', value: 3 }));
    await turn();
    await turn();
    expect(batches.map((batch) => batch.map((call) => call.value))).toEqual([[1], [3]]);
    pending.shift()!();
    await turn();
    await turn();
    expect(batches.map((batch) => batch.map((call) => call.value))).toEqual([[1], [3], [2]]);
    for (const end of pending.splice(0)) end();
    await expect(Promise.all(answers)).resolves.toEqual([2, 4, 6]);
  });

  it('runs up to `concurrency` batches at once, and fails every input of a batch whose handler throws', async () => {
    let running = 0;
    let most = 0;
    const batcher = new Batcher<Call, number>({
      handle: async (inputs) => {
        most = Math.max(most, ++running);
        await turn();
        await turn();
        running--;
        if (inputs.some((input) => input.value === 13)) throw new Error('unlucky');
        return inputs.map((input) => ({ ok: true, value: input.value }));
      },
      keyOf: (call) => call.key,
      maxBatch: 2,
      concurrency: 2,
    });
    const answers = Array.from({ length: 12 }, (_, index) => batcher.submit({ key: `k${index}`, value: index + 3 }));
    const settled = await Promise.allSettled(answers);
    expect(most).toBe(2);
    // 13 is the 11th input, in the 6th batch of two, with 14.
    expect(settled.filter((outcome) => outcome.status === 'rejected').length).toBe(2);
    expect(settled[10]).toEqual({ status: 'rejected', reason: new Error('unlucky') });
    expect(settled[11]).toEqual({ status: 'rejected', reason: new Error('unlucky') });
  });
});
