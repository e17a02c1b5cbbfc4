// The GPU host's pure parts: request checks, the batching policy, stacking and splitting, the
// coalescing of streamed tokens, and provider probing (with a stand-in for session creation; the real probe runs in gpu-host.test.ts).
import { describe, expect, it } from 'vitest';
import {
  BatchQueue,
  batchingRefusal,
  checkRequest,
  type ModelInfo,
  probeOrder,
  probeProviders,
  StreamCoalescer,
  splitOutputs,
  stackInputs,
} from '../src/gpu-host/index.js';
import { InferenceErrorCode, type Tensor } from '../src/protocol/index.js';

const model: ModelInfo = {
  name: 'mlp',
  inputs: [
    { name: 'x', dtype: 'float32', dims: ['batch', 4] },
    { name: 'mask', dtype: 'int64', dims: ['batch', 4] },
  ],
  outputs: [{ name: 'y', dtype: 'float32', dims: ['batch', 2] }],
  maxRequestBytes: 1000,
};

const tensor = (name: string, dtype: string, dims: number[], bytes?: number): Tensor => ({
  name,
  dtype,
  dims,
  data: new Uint8Array(bytes ?? dims.reduce((a, b) => a * b, 1) * (dtype === 'int64' ? 8 : 4)),
});

const code = (inputs: Tensor[], outputs: string[] = []) => {
  const checked = checkRequest(model, { inputs, outputs });
  return checked.ok
    ? 'ok'
    : [InferenceErrorCode[checked.error.code as number], checked.error.input, checked.error.message];
};

describe('checkRequest', () => {
  const x = tensor('x', 'float32', [2, 4]);
  const mask = tensor('mask', 'int64', [2, 4]);

  it('accepts a well-formed request, in the model input order, with its rows and batch key', () => {
    const checked = checkRequest(model, { inputs: [mask, x] });
    expect(checked.ok && checked.inputs.map((input) => input.name)).toEqual(['x', 'mask']);
    expect(checked.ok && checked.rows).toBe(2);
    expect(checked.ok && checked.outputs).toEqual(['y']);
    const other = checkRequest(model, {
      inputs: [tensor('x', 'float32', [5, 4]), tensor('mask', 'int64', [5, 4])],
    });
    expect(checked.ok && other.ok && checked.key === other.key).toBe(true);
  });

  it('names the input at fault for each kind of bad input', () => {
    expect(code([x])).toEqual(['MISSING_INPUT', 'mask', 'model "mlp": input "mask" is missing']);
    expect(code([x, mask, tensor('z', 'float32', [1])])[0]).toBe('UNKNOWN_INPUT');
    expect(code([x, mask, x])[0]).toBe('BAD_REQUEST');
    expect(code([tensor('x', 'float64', [2, 4], 64), mask])).toEqual([
      'WRONG_DTYPE',
      'x',
      'model "mlp": input "x" must be float32 (got float64)',
    ]);
    expect(code([tensor('x', 'bfloat99', [2, 4]), mask])[2]).toMatch(/got unknown dtype "bfloat99"/);
    expect(code([tensor('x', 'float32', [2, 5]), mask])).toEqual([
      'WRONG_SHAPE',
      'x',
      'model "mlp": input "x" has shape [2, 5]; the model takes [batch, 4]',
    ]);
    expect(code([tensor('x', 'float32', [8]), mask])[0]).toBe('WRONG_SHAPE');
    expect(code([x, tensor('mask', 'int64', [3, 4])])[2]).toMatch(
      /"mask" has batch = 3, another input has batch = 2/,
    );
    expect(code([tensor('x', 'float32', [2, 4], 31), mask])[2]).toMatch(
      /carries 31 bytes; shape \[2, 4\] of float32 needs 32/,
    );
    expect(code([tensor('x', 'float32', [30, 4]), tensor('mask', 'int64', [30, 4])])[0]).toBe('TOO_LARGE');
    expect(code([x, mask], ['nope'])).toEqual([
      'UNKNOWN_OUTPUT',
      'nope',
      'model "mlp": no output named "nope" (outputs: "y")',
    ]);
  });
});

describe('BatchQueue', () => {
  const policy = { enabled: true, maxBatch: 4, maxQueueDelayMs: 10 };

  it('waits up to the queue delay for a batch to fill, then runs what it has', () => {
    const queue = new BatchQueue<string>(policy);
    queue.push('a', 1, 'k', 0);
    expect(queue.take(3)).toEqual({ waitMs: 7 });
    queue.push('b', 2, 'k', 4);
    expect(queue.take(10)).toEqual({ items: ['a', 'b'], rows: 3 });
    expect(queue.take(10)).toBeUndefined();
  });

  it('runs at once when maxBatch rows are queued, and never stacks different shapes', () => {
    const queue = new BatchQueue<string>(policy);
    queue.push('a', 2, 'k', 0);
    queue.push('odd', 1, 'other', 0);
    queue.push('b', 3, 'k', 0);
    queue.push('c', 2, 'k', 0);
    expect(queue.take(0)).toEqual({ items: ['a', 'c'], rows: 4 });
    expect(queue.take(10)).toEqual({ items: ['odd'], rows: 1 });
    expect(queue.take(10)).toEqual({ items: ['b'], rows: 3 });
  });

  it('with batching off, runs each request alone and immediately', () => {
    const queue = new BatchQueue<string>({ ...policy, enabled: false });
    queue.push('a', 1, 'k', 0);
    queue.push('b', 1, 'k', 0);
    expect(queue.take(0)).toEqual({ items: ['a'], rows: 1 });
    expect(queue.drain()).toEqual(['b']);
  });

  it('runs a request larger than maxBatch alone rather than never', () => {
    const queue = new BatchQueue<string>(policy);
    queue.push('huge', 9, 'k', 0);
    expect(queue.take(0)).toEqual({ items: ['huge'], rows: 9 });
  });

  it('gives only a full batch when asked for one (the second a worker holds), and never a wait', () => {
    const queue = new BatchQueue<string>(policy);
    queue.push('a', 1, 'k', 0);
    queue.push('b', 2, 'k', 0);
    expect(queue.take(20, true)).toBeUndefined();
    queue.push('c', 1, 'k', 1);
    expect(queue.take(1, true)).toEqual({ items: ['a', 'b', 'c'], rows: 4 });
    queue.push('d', 1, 'k', 2);
    expect(queue.take(2, true)).toBeUndefined();
    expect(queue.take(2)).toEqual({ waitMs: 10 });
  });
});

describe('stacking', () => {
  it('concatenates along the first dimension and splits the outputs back byte for byte', () => {
    const rowsOf = (rows: number, start: number) => ({
      name: 'x',
      dtype: 'float32',
      dims: [rows, 2],
      data: new Uint8Array(Float32Array.from({ length: rows * 2 }, (_, i) => start + i).buffer),
    });
    const requests = [[rowsOf(1, 0)], [rowsOf(3, 10)], [rowsOf(2, 20)]];
    const [stacked] = stackInputs(requests);
    expect(stacked?.dims).toEqual([6, 2]);
    const split = splitOutputs([{ ...(stacked as NonNullable<typeof stacked>), name: 'y' }], [1, 3, 2]);
    expect(split.map(([output]) => output?.dims)).toEqual([
      [1, 2],
      [3, 2],
      [2, 2],
    ]);
    expect(
      split.map(([output]) =>
        Array.from(new Float32Array(output?.data.slice().buffer ?? new ArrayBuffer(0))),
      ),
    ).toEqual([
      [0, 1],
      [10, 11, 12, 13, 14, 15],
      [20, 21, 22, 23],
    ]);
    expect(() =>
      splitOutputs([{ name: 'y', dtype: 'float32', dims: [5], data: new Uint8Array(20) }], [1, 3, 2]),
    ).toThrow('output "y" has 5 rows for a batch of 6');
  });

  it('batches only models whose inputs and outputs all start with one dynamic dimension', () => {
    expect(batchingRefusal(model)).toBeUndefined();
    const fixed = { ...model, inputs: [{ name: 'x', dtype: 'float32', dims: [1, 4] }] };
    expect(batchingRefusal(fixed)).toBe('"x" has no dynamic first dimension');
    const renamed = { ...model, outputs: [{ name: 'y', dtype: 'float32', dims: ['n', 2] }] };
    expect(batchingRefusal(renamed)).toBe('"y" does not start with the dynamic dimension "batch"');
  });
});

describe('provider probing', () => {
  const backends = [
    { name: 'cpu', bundled: true },
    { name: 'cuda', bundled: false },
  ];

  it('tries each provider alone in order, ends with cpu, and keeps every reason', async () => {
    expect(probeOrder(['cpu', 'cuda', 'dml', 'cuda'])).toEqual(['cuda', 'dml', 'cpu']);
    const tried: string[] = [];
    const result = await probeProviders(['cuda', 'dml'], backends, async (provider) => {
      tried.push(provider);
      if (provider === 'cuda') throw new Error('Failed to load shared library\nstack...');
      return `session on ${provider}`;
    });
    expect(tried).toEqual(['cuda', 'cpu']);
    expect(result.session).toBe('session on cpu');
    expect(result.skipped).toEqual([
      {
        provider: 'cuda',
        reason: expect.stringMatching(/^Failed to load shared library \(its libraries are not installed/),
      },
      {
        provider: 'dml',
        reason: expect.stringMatching(/^not built into onnxruntime-node for .* \(it has: cpu, cuda\)$/),
      },
    ]);
  });

  it('reports no session when even cpu fails (a corrupt model), with its reason', async () => {
    const result = await probeProviders([], backends, async () => {
      throw new Error('Protobuf parsing failed.');
    });
    expect(result).toEqual({ skipped: [{ provider: 'cpu', reason: 'Protobuf parsing failed.' }] });
  });
});

describe('StreamCoalescer', () => {
  /** A coalescer on a hand-driven clock: what it sent, and a way to move time on. */
  function coalescer(windowMs = 8) {
    let now = 0;
    const sent: string[][] = [];
    const timers: Array<{ at: number; run: () => void }> = [];
    const out = new StreamCoalescer<string>(
      {
        send: (items) => sent.push(items),
        now: () => now,
        later: (run, ms) => timers.push({ at: now + ms, run }),
      },
      windowMs,
    );
    const advance = (ms: number) => {
      now += ms;
      const due = timers.filter((timer) => timer.at <= now);
      timers.splice(0, timers.length, ...timers.filter((timer) => timer.at > now));
      for (const timer of due) timer.run();
    };
    return { out, sent, advance, timers };
  }

  it('sends a first token at once and those within the window together at its end', () => {
    const { out, sent, advance } = coalescer();
    out.stream(['t0'], true);
    expect(sent).toEqual([['t0']]);
    for (const token of ['t1', 't2', 't3']) {
      advance(1);
      out.stream([token]);
    }
    expect(sent).toEqual([['t0']]);
    advance(5);
    expect(sent).toEqual([['t0'], ['t1', 't2', 't3']]);
  });

  it('sends a token alone when the window has passed since the last (a slow model)', () => {
    const { out, sent, advance } = coalescer();
    for (const token of ['t0', 't1', 't2']) {
      out.stream([token], token === 't0');
      advance(20);
    }
    expect(sent).toEqual([['t0'], ['t1'], ['t2']]);
  });

  it('sends anything else at once, after the tokens that wait, in order', () => {
    const { out, sent, advance, timers } = coalescer();
    out.stream(['t0'], true);
    advance(1);
    out.stream(['t1']);
    out.now(['done']);
    expect(sent).toEqual([['t0'], ['t1', 'done']]);
    advance(10);
    expect(sent).toHaveLength(2);
    expect(timers).toHaveLength(0);
  });

  it("sends the next generation's first token at once, even within a window", () => {
    const { out, sent, advance } = coalescer();
    out.stream(['a0'], true);
    advance(1);
    out.now(['a-done']);
    advance(1);
    out.stream(['b0'], true);
    expect(sent).toEqual([['a0'], ['a-done'], ['b0']]);
  });
});
