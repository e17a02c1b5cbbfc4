// A tiny decoder-only transformer in the Hugging Face Optimum export layout: inputs `input_ids`,
// `attention_mask`, `position_ids`, `past_key_values.N.key/value`; outputs `logits` and
// `present.N.key/value`. Pre-norm attention (causal, padding-aware, with a KV cache; optionally
// grouped-query, fewer key/value heads than query heads) and an MLP (ReLU, or SiLU-gated as Llama's)
// per layer; weights from a seeded generator. Small enough to build in a test, real enough that a
// KV cache, left padding and batching all matter; wide and deep enough, when asked, to have a real
// model's shape (SmolLM2-135M: hidden 576, 30 layers, 9 heads, 3 KV heads, gated MLP of 1536).
import { buildModel, MICROSOFT, type NodeSpec } from './graph.js';
import { mulberry32 } from './mlp.js';
import { quantizeBlocks } from './quantize.js';

export interface DecoderShape {
  vocab: number;
  hidden: number;
  heads: number;
  /** Key/value heads (grouped-query attention): a divisor of `heads`. Default `heads`. */
  kvHeads?: number;
  layers: number;
  /** The MLP's inner width. Default 2 × hidden. */
  intermediate?: number;
  /** A SiLU-gated MLP (gate, up and down projections, as Llama's) instead of a ReLU one. */
  gated?: boolean;
  /** Longest sequence (learned position embeddings). */
  maxPositions: number;
  seed?: number;
  /**
   * Weights of the linear layers (attention, MLP, output head) in 4 or 8 bits, run by ONNX
   * Runtime's MatMulNBits; the same seed gives the same weights before quantization.
   */
  quantize?: 4 | 8;
  /**
   * Also output each layer's keys and values of the new tokens alone (`new_key_values.N.key` /
   * `.value`), so a caller can keep the cache in place and fetch only what a step adds. Default
   * true; false gives the plain Optimum layout.
   */
  newColumns?: boolean;
}

/** Values per quantized block along K (MatMulNBits' block_size). */
const BLOCK_SIZE = 32;

export function buildDecoder(shape: DecoderShape): Uint8Array {
  const { vocab, hidden, heads, layers, maxPositions } = shape;
  const headDim = hidden / heads;
  if (!Number.isInteger(headDim)) throw new Error(`hidden ${hidden} is not a multiple of heads ${heads}`);
  const kvHeads = shape.kvHeads ?? heads;
  if (!Number.isInteger(heads / kvHeads))
    throw new Error(`heads ${heads} is not a multiple of kvHeads ${kvHeads}`);
  const kvWidth = kvHeads * headDim;
  const inner = shape.intermediate ?? hidden * 2;
  const random = mulberry32(shape.seed ?? 1);
  const nodes: NodeSpec[] = [];
  const initializers: Array<{
    name: string;
    dims: number[];
    data: Float32Array | BigInt64Array | Uint8Array;
  }> = [];
  const values = (count: number, scale: number) =>
    Float32Array.from({ length: count }, () => (random() * 2 - 1) * scale);
  const weight = (name: string, dims: number[], scale: number) => {
    initializers.push({
      name,
      dims,
      data: values(
        dims.reduce((a, b) => a * b, 1),
        scale,
      ),
    });
    return name;
  };
  const constant = (name: string, dims: number[], values: number[] | bigint[]) => {
    const data =
      typeof values[0] === 'bigint'
        ? BigInt64Array.from(values as bigint[])
        : Float32Array.from(values as number[]);
    initializers.push({ name, dims, data });
    return name;
  };
  let counter = 0;
  const op = (
    type: string,
    inputs: string[],
    attributes?: NodeSpec['attributes'],
    output?: string,
    domain?: string,
  ) => {
    const name = output ?? `${type.toLowerCase()}_${counter++}`;
    nodes.push({
      op: type,
      inputs,
      outputs: [name],
      ...(attributes ? { attributes } : {}),
      ...(domain ? { domain } : {}),
    });
    return name;
  };
  /** `input` × a [k, n] weight: a MatMul, or a MatMulNBits of the same weights quantized. */
  const linear = (input: string, name: string, k: number, n: number, scale: number) => {
    if (!shape.quantize) return op('MatMul', [input, weight(name, [k, n], scale)]);
    const { data, scales, blocks } = quantizeBlocks(values(k * n, scale), k, n, shape.quantize, BLOCK_SIZE);
    initializers.push({ name: `${name}.q`, dims: [n, blocks, (BLOCK_SIZE * shape.quantize) / 8], data });
    initializers.push({ name: `${name}.scales`, dims: [n * blocks], data: scales });
    const attributes = { K: k, N: n, bits: shape.quantize, block_size: BLOCK_SIZE, accuracy_level: 4 };
    return op('MatMulNBits', [input, `${name}.q`, `${name}.scales`], attributes, undefined, MICROSOFT);
  };
  const silu = (input: string) => op('Mul', [input, op('Sigmoid', [input])]);
  const norm = (input: string, prefix: string) =>
    op(
      'LayerNormalization',
      [
        input,
        constant(`${prefix}.g`, [hidden], Array(hidden).fill(1)),
        constant(`${prefix}.b`, [hidden], Array(hidden).fill(0)),
      ],
      {
        axis: -1,
        epsilon: 1e-5,
      },
    );

  // Constants shared by the mask.
  constant('c.one', [], [1n]);
  constant('c.zero', [], [0n]);
  constant('c.axis1', [1], [1n]);
  constant('c.axes12', [2], [1n, 2n]);
  constant('c.index1', [], [1n]);
  constant('c.f0', [], [0]);
  constant('c.fneg', [], [-1e9]);
  constant('c.scale', [], [1 / Math.sqrt(headDim)]);
  constant('c.heads', [4], [0n, 0n, BigInt(heads), BigInt(headDim)]);
  constant('c.merge', [3], [0n, 0n, BigInt(hidden)]);
  if (kvHeads !== heads) {
    // Grouped-query attention without copying keys and values per query head: the query heads
    // of one group are stacked along the sequence, [b, kvHeads, group × s, d], and back.
    constant('c.kvHeads', [4], [0n, 0n, BigInt(kvHeads), BigInt(headDim)]);
    constant('c.grouped', [4], [0n, BigInt(kvHeads), -1n, 0n]);
    constant('c.ungrouped', [4], [0n, BigInt(heads), -1n, 0n]);
  }

  // Which keys each query may see: causal by absolute position, and not padding.
  const total = op('Gather', [op('Shape', ['attention_mask']), 'c.index1'], { axis: 0 });
  const length = op('Gather', [op('Shape', ['input_ids']), 'c.index1'], { axis: 0 });
  const past = op('Sub', [total, length]);
  const keys = op('Range', ['c.zero', total, 'c.one']);
  const queries = op('Unsqueeze', [op('Range', [past, total, 'c.one']), 'c.axis1']);
  const causal = op('LessOrEqual', [keys, queries]);
  const present = op('Unsqueeze', [op('Equal', ['attention_mask', 'c.one']), 'c.axes12']);
  const bias = op('Where', [op('And', [causal, present]), 'c.f0', 'c.fneg']);

  const tokens = op('Gather', [weight('wte', [vocab, hidden], 0.5), 'input_ids'], { axis: 0 });
  const positions = op('Gather', [weight('wpe', [maxPositions, hidden], 0.1), 'position_ids'], { axis: 0 });
  let x = op('Add', [tokens, positions]);
  const split = (input: string, into = 'c.heads') =>
    op('Transpose', [op('Reshape', [input, into])], { perm: [0, 2, 1, 3] });
  const grouped = kvHeads !== heads;
  /** [b, heads, s, x] ↔ [b, kvHeads, group × s, x] (no-ops without grouped-query attention). */
  const group = (input: string) => (grouped ? op('Reshape', [input, 'c.grouped']) : input);
  const ungroup = (input: string) => (grouped ? op('Reshape', [input, 'c.ungrouped']) : input);
  for (let layer = 0; layer < layers; layer++) {
    const p = `h.${layer}`;
    const scale = 1 / Math.sqrt(hidden);
    const h = norm(x, `${p}.ln1`);
    const q = split(linear(h, `${p}.wq`, hidden, hidden, scale));
    const kvSplit = grouped ? 'c.kvHeads' : 'c.heads';
    const k = split(linear(h, `${p}.wk`, hidden, kvWidth, scale), kvSplit);
    const v = split(linear(h, `${p}.wv`, hidden, kvWidth, scale), kvSplit);
    const allK = op('Concat', [`past_key_values.${layer}.key`, k], { axis: 2 }, `present.${layer}.key`);
    const allV = op('Concat', [`past_key_values.${layer}.value`, v], { axis: 2 }, `present.${layer}.value`);
    if (shape.newColumns !== false) {
      op('Identity', [k], undefined, `new_key_values.${layer}.key`);
      op('Identity', [v], undefined, `new_key_values.${layer}.value`);
    }
    const raw = op('MatMul', [group(q), op('Transpose', [allK], { perm: [0, 1, 3, 2] })]);
    const scores = op('Add', [op('Mul', [ungroup(raw), 'c.scale']), bias]);
    const attended = ungroup(op('MatMul', [group(op('Softmax', [scores], { axis: -1 })), allV]));
    const merged = op('Reshape', [op('Transpose', [attended], { perm: [0, 2, 1, 3] }), 'c.merge']);
    x = op('Add', [x, linear(merged, `${p}.wo`, hidden, hidden, scale)]);
    const m = norm(x, `${p}.ln2`);
    const up = shape.gated
      ? op('Mul', [
          silu(linear(m, `${p}.wg`, hidden, inner, scale)),
          linear(m, `${p}.w1`, hidden, inner, scale),
        ])
      : op('Relu', [linear(m, `${p}.w1`, hidden, inner, scale)]);
    x = op('Add', [x, linear(up, `${p}.w2`, inner, hidden, 1 / Math.sqrt(inner))]);
  }
  // The output bias keeps a random model to tokens that are text: bytes outside printable ASCII
  // (but for the newline) are pushed down, so generated text decodes as readable characters.
  const outputBias = Array.from({ length: vocab }, (_, token) =>
    token < 256 && token !== 10 && (token < 32 || token > 126) ? -20 : 0,
  );
  const projected = linear(norm(x, 'ln_f'), 'lm_head', hidden, vocab, 1);
  op('Add', [projected, constant('lm_bias', [vocab], outputBias)], undefined, 'logits');

  const cache = (name: string, length: string) => ({
    name,
    type: 'float32' as const,
    dims: ['batch_size', kvHeads, length, headDim],
  });
  return buildModel({
    name: 'tiny-decoder',
    inputs: [
      { name: 'input_ids', type: 'int64', dims: ['batch_size', 'sequence_length'] },
      { name: 'attention_mask', type: 'int64', dims: ['batch_size', 'total_sequence_length'] },
      { name: 'position_ids', type: 'int64', dims: ['batch_size', 'sequence_length'] },
      ...Array.from({ length: layers }, (_, i) => [
        cache(`past_key_values.${i}.key`, 'past_sequence_length'),
        cache(`past_key_values.${i}.value`, 'past_sequence_length'),
      ]).flat(),
    ],
    outputs: [
      { name: 'logits', type: 'float32', dims: ['batch_size', 'sequence_length', vocab] },
      ...Array.from({ length: layers }, (_, i) => [
        cache(`present.${i}.key`, 'total_sequence_length'),
        cache(`present.${i}.value`, 'total_sequence_length'),
      ]).flat(),
      ...(shape.newColumns === false
        ? []
        : Array.from({ length: layers }, (_, i) => [
            cache(`new_key_values.${i}.key`, 'sequence_length'),
            cache(`new_key_values.${i}.value`, 'sequence_length'),
          ]).flat()),
    ],
    nodes,
    initializers,
  });
}
