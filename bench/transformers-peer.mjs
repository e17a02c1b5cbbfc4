// The peer for serving many streams (issue 29): transformers.js (`@huggingface/transformers`, a dev
// dependency) on the same model folder, greedy, in this process, in both of its ways to serve 8
// prompts: 8 `generate()` calls at once, and one `generate()` of a batch of 8 (padded on the left).
// transformers.js chooses its generation code by config.json's `model_type`; the decoders Troupe
// builds have the plain Optimum layout of its `llama` code (Troupe itself reads the graph, not the
// type), so the folder is declared `llama` before any contender opens it.
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { AutoModelForCausalLM, AutoTokenizer, env } from '@huggingface/transformers';

/** Declares the folder's model type as transformers.js knows it; call before opening it anywhere. */
export function declareForTransformers(folder) {
  const file = join(folder, 'config.json');
  const config = JSON.parse(readFileSync(file, 'utf8'));
  writeFileSync(
    file,
    JSON.stringify({ ...config, model_type: 'llama', architectures: ['LlamaForCausalLM'] }),
  );
}

export async function openTransformers(folder, threads) {
  env.allowRemoteModels = false;
  env.localModelPath = `${dirname(folder)}/`;
  const name = basename(folder);
  const tokenizer = await AutoTokenizer.from_pretrained(name);
  tokenizer.padding_side = 'left';
  const model = await AutoModelForCausalLM.from_pretrained(name, {
    dtype: 'fp32',
    device: 'cpu',
    session_options: { intraOpNumThreads: threads, interOpNumThreads: 1 },
  });
  const eos = new Set([JSON.parse(readFileSync(join(folder, 'config.json'), 'utf8')).eos_token_id].flat());

  /** The new token ids of each row of a generate() output, up to its end-of-sequence token. */
  const newIds = (output, inputLength) =>
    output.tolist().map((row) => {
      const ids = row.slice(inputLength).map(Number);
      const end = ids.findIndex((id) => eos.has(id));
      return end < 0 ? ids : ids.slice(0, end);
    });

  /** 8 generate() calls at once, one prompt each: the new token ids of each. */
  async function concurrent(prompts, maxNewTokens) {
    return Promise.all(
      prompts.map(async (prompt) => {
        const inputs = tokenizer(prompt, { add_special_tokens: false });
        const output = await model.generate({ ...inputs, max_new_tokens: maxNewTokens, do_sample: false });
        return newIds(output, inputs.input_ids.dims[1])[0];
      }),
    );
  }

  /** One generate() of all the prompts as a batch: the new token ids of each. */
  async function batched(prompts, maxNewTokens) {
    const inputs = tokenizer(prompts, { add_special_tokens: false, padding: true });
    const output = await model.generate({ ...inputs, max_new_tokens: maxNewTokens, do_sample: false });
    return newIds(output, inputs.input_ids.dims[1]);
  }

  return { concurrent, batched, release: () => model.dispose() };
}
