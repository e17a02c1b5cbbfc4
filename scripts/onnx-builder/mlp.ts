// A multi-layer perceptron with a dynamic batch dimension: input "x" [batch, inputs] float32,
// output "y" [batch, outputs] float32 (softmax), weights drawn from a seeded generator.
import { buildModel, type NodeSpec } from './graph.js';

export interface MlpShape {
  inputs: number;
  hidden: readonly number[];
  outputs: number;
  seed?: number;
}

export function buildMlp(shape: MlpShape): Uint8Array {
  const random = mulberry32(shape.seed ?? 1);
  const widths = [shape.inputs, ...shape.hidden, shape.outputs];
  const nodes: NodeSpec[] = [];
  const initializers: Array<{ name: string; dims: number[]; data: Float32Array }> = [];
  let current = 'x';
  for (let layer = 0; layer + 1 < widths.length; layer++) {
    const [from, to] = [widths[layer] as number, widths[layer + 1] as number];
    const scale = Math.sqrt(2 / from);
    const weights = Float32Array.from({ length: from * to }, () => (random() * 2 - 1) * scale);
    const bias = Float32Array.from({ length: to }, () => (random() * 2 - 1) * 0.1);
    initializers.push({ name: `w${layer}`, dims: [from, to], data: weights });
    initializers.push({ name: `b${layer}`, dims: [to], data: bias });
    nodes.push({ op: 'MatMul', inputs: [current, `w${layer}`], outputs: [`mm${layer}`] });
    const last = layer + 2 === widths.length;
    nodes.push({ op: 'Add', inputs: [`mm${layer}`, `b${layer}`], outputs: [last ? 'logits' : `z${layer}`] });
    if (!last) nodes.push({ op: 'Relu', inputs: [`z${layer}`], outputs: [`h${layer}`] });
    current = last ? 'logits' : `h${layer}`;
  }
  nodes.push({ op: 'Softmax', inputs: ['logits'], outputs: ['y'], attributes: { axis: -1 } });
  return buildModel({
    name: 'mlp',
    inputs: [{ name: 'x', type: 'float32', dims: ['batch', shape.inputs] }],
    outputs: [{ name: 'y', type: 'float32', dims: ['batch', shape.outputs] }],
    nodes,
    initializers,
  });
}

/** A small seeded generator (weights only; agents use src/abi/prng.ts). */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
