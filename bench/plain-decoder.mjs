// The peer a user could write in an afternoon (issue 29): a plain onnxruntime-node greedy loop with
// a KV cache over the same model folder, one generation at a time, in this process. It feeds the
// whole cache in as `past_key_values` and takes `present` back at each step (the Optimum layout),
// fetching only the logits and the cache, and stops at the model's end-of-sequence token as the
// GPU host does. Tokens are the folder's tokenizer's, without special tokens, as the host encodes.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import ort from 'onnxruntime-node';

export async function openPlainDecoder(folder, threads) {
  const json = (name) => JSON.parse(readFileSync(join(folder, name), 'utf8'));
  const config = json('config.json');
  const tokenizer = new Tokenizer(json('tokenizer.json'), json('tokenizer_config.json'));
  const session = await ort.InferenceSession.create(join(folder, 'onnx', 'model.onnx'), {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
  });
  const layers = config.num_hidden_layers;
  const heads = config.num_key_value_heads ?? config.num_attention_heads;
  const headDim = config.hidden_size / config.num_attention_heads;
  const vocab = config.vocab_size;
  const eos = new Set([config.eos_token_id].flat());
  const fetches = [
    'logits',
    ...Array.from({ length: layers }, (_, l) => [`present.${l}.key`, `present.${l}.value`]).flat(),
  ];

  /** Greedy generation of up to `maxNewTokens` after `prompt`: the new token ids. */
  async function generate(prompt, maxNewTokens) {
    let ids = tokenizer.encode(prompt, { add_special_tokens: false }).ids.map(Number);
    let past = Array.from({ length: layers }, () => {
      const empty = new ort.Tensor('float32', new Float32Array(0), [1, heads, 0, headDim]);
      return [empty, empty];
    });
    let pastLength = 0;
    const out = [];
    while (out.length < maxNewTokens) {
      const total = pastLength + ids.length;
      const feeds = {
        input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]),
        attention_mask: new ort.Tensor('int64', new BigInt64Array(total).fill(1n), [1, total]),
        position_ids: new ort.Tensor(
          'int64',
          BigInt64Array.from(ids, (_, i) => BigInt(pastLength + i)),
          [1, ids.length],
        ),
      };
      for (let l = 0; l < layers; l++) {
        feeds[`past_key_values.${l}.key`] = past[l][0];
        feeds[`past_key_values.${l}.value`] = past[l][1];
      }
      const results = await session.run(feeds, fetches);
      const logits = results.logits.data;
      const last = (ids.length - 1) * vocab;
      let best = 0;
      for (let v = 1; v < vocab; v++) if (logits[last + v] > logits[last + best]) best = v;
      if (eos.has(best)) break;
      out.push(best);
      past = past.map((_, l) => [results[`present.${l}.key`], results[`present.${l}.value`]]);
      pastLength = total;
      ids = [best];
    }
    return out;
  }
  return { generate, release: () => session.release() };
}
