// What a decoder's ONNX inputs and outputs say about it: the layer count, heads and head size are
// read from the graph (past_key_values.N.key is [batch, heads, past, headDim]), not guessed.

export interface DecoderMeta {
  layers: number;
  heads: number;
  headDim: number;
  vocab: number | undefined;
  positionIds: boolean;
  /**
   * It also outputs the new tokens' keys and values alone (`new_key_values.N.key` / `.value`):
   * decode steps then keep the cache in place and fetch only those.
   */
  newColumns: boolean;
}

interface Value {
  name: string;
  dims: ReadonlyArray<number | string>;
}

export function decoderMeta(inputs: readonly Value[], outputs: readonly Value[], file: string): DecoderMeta {
  const inputNames = new Set(inputs.map((input) => input.name));
  const outputNames = new Set(outputs.map((output) => output.name));
  const listed = (names: Set<string>) => [...names].join(', ');
  for (const name of ['input_ids', 'attention_mask']) {
    if (!inputNames.has(name))
      throw new Error(`${file} has no input named "${name}" (inputs: ${listed(inputNames)})`);
  }
  if (!outputNames.has('logits'))
    throw new Error(`${file} has no output named "logits" (outputs: ${listed(outputNames)})`);
  let layers = 0;
  while (inputNames.has(`past_key_values.${layers}.key`)) layers++;
  if (layers === 0) {
    throw new Error(
      `${file} has no input named "past_key_values.0.key": it is not a decoder exported with its KV cache (inputs: ${listed(inputNames)})`,
    );
  }
  for (let layer = 0; layer < layers; layer++) {
    for (const part of ['key', 'value']) {
      if (!inputNames.has(`past_key_values.${layer}.${part}`))
        throw new Error(`${file} has no input named "past_key_values.${layer}.${part}"`);
      if (!outputNames.has(`present.${layer}.${part}`))
        throw new Error(`${file} has no output named "present.${layer}.${part}"`);
    }
  }
  const past = inputs.find((input) => input.name === 'past_key_values.0.key') as Value;
  const [, heads, , headDim] = past.dims;
  if (typeof heads !== 'number' || typeof headDim !== 'number') {
    throw new Error(
      `${file}: past_key_values.0.key has dims [${past.dims.join(', ')}]; heads and head size must be fixed numbers`,
    );
  }
  const logits = outputs.find((output) => output.name === 'logits') as Value;
  const vocab = logits.dims[2];
  return {
    layers,
    heads,
    headDim,
    vocab: typeof vocab === 'number' ? vocab : undefined,
    positionIds: inputNames.has('position_ids'),
    newColumns: Array.from({ length: layers }, (_, layer) => layer).every(
      (layer) =>
        outputNames.has(`new_key_values.${layer}.key`) && outputNames.has(`new_key_values.${layer}.value`),
    ),
  };
}
