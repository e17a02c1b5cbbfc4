// Writes ONNX models from code (onnx.proto via the onnx-proto package): tests, benchmarks and the
// examples build the small real models they run, so nothing is downloaded.
import onnxProto, { type onnx as OnnxTypes } from 'onnx-proto';

const { onnx } = onnxProto;

/** ONNX element types by the names Troupe's tensors use. */
export const ELEMENT_TYPES = {
  float32: onnx.TensorProto.DataType.FLOAT,
  uint8: onnx.TensorProto.DataType.UINT8,
  int64: onnx.TensorProto.DataType.INT64,
  int32: onnx.TensorProto.DataType.INT32,
  bool: onnx.TensorProto.DataType.BOOL,
} as const;
export type ElementName = keyof typeof ELEMENT_TYPES;

/** A dimension: a fixed size, or a name for a dynamic one (e.g. "batch"). */
export type Dim = number | string;

export interface ValueSpec {
  name: string;
  type: ElementName;
  dims: readonly Dim[];
}

export interface NodeSpec {
  op: string;
  inputs: readonly string[];
  outputs: readonly string[];
  attributes?: Record<string, number | readonly number[] | string>;
  domain?: string;
}

export interface GraphSpec {
  name: string;
  inputs: readonly ValueSpec[];
  outputs: readonly ValueSpec[];
  nodes: readonly NodeSpec[];
  initializers: ReadonlyArray<{
    name: string;
    dims: readonly number[];
    data: Float32Array | BigInt64Array | Uint8Array;
  }>;
  opset?: number;
}

const DEFAULT_OPSET = 17;
/** The domain of ONNX Runtime's contrib operators. */
export const MICROSOFT = 'com.microsoft';

export function buildModel(graph: GraphSpec): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'troupe-onnx-builder',
    opsetImport: [
      { domain: '', version: graph.opset ?? DEFAULT_OPSET },
      // ONNX Runtime's contrib operators (MatMulNBits), when a node uses them.
      ...(graph.nodes.some((node) => node.domain === MICROSOFT) ? [{ domain: MICROSOFT, version: 1 }] : []),
    ],
    graph: {
      name: graph.name,
      input: graph.inputs.map(valueInfo),
      output: graph.outputs.map(valueInfo),
      node: graph.nodes.map((node, index) => ({
        opType: node.op,
        name: `${node.op}_${index}`,
        input: [...node.inputs],
        output: [...node.outputs],
        domain: node.domain ?? '',
        attribute: Object.entries(node.attributes ?? {}).map(([name, value]) => attribute(name, value)),
      })),
      initializer: graph.initializers.map(({ name, dims, data }) => ({
        name,
        dims: [...dims],
        dataType:
          data instanceof Float32Array
            ? ELEMENT_TYPES.float32
            : data instanceof Uint8Array
              ? ELEMENT_TYPES.uint8
              : ELEMENT_TYPES.int64,
        rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
      })),
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

function valueInfo(value: ValueSpec): OnnxTypes.IValueInfoProto {
  return {
    name: value.name,
    type: {
      tensorType: {
        elemType: ELEMENT_TYPES[value.type],
        shape: {
          dim: value.dims.map((dim) => (typeof dim === 'number' ? { dimValue: dim } : { dimParam: dim })),
        },
      },
    },
  };
}

function attribute(name: string, value: number | readonly number[] | string): OnnxTypes.IAttributeProto {
  const { AttributeType } = onnx.AttributeProto;
  if (typeof value === 'string')
    return { name, type: AttributeType.STRING, s: new TextEncoder().encode(value) };
  if (typeof value !== 'number') return { name, type: AttributeType.INTS, ints: [...value] };
  if (Number.isInteger(value)) return { name, type: AttributeType.INT, i: value };
  return { name, type: AttributeType.FLOAT, f: value };
}
