// Text in and out of token ids, with the tokenizer from tokenizer.json and the chat template from
// tokenizer_config.json (when it has one).
import { Template } from '@huggingface/jinja';
import type { Tokenizer } from '@huggingface/tokenizers';
import type { TextCodec } from './llm-engine.js';
import type { LlmFolder } from './llm-folder.js';

export interface ChatCodec extends TextCodec {
  /** The prompt for chat messages, rendered with the model's chat template. */
  chat(messages: Array<{ role: string; content: string }>): string;
}

export function textCodec(tokenizer: Tokenizer, folder: LlmFolder): ChatCodec {
  const source = folder.tokenizerConfig.chat_template;
  const template = typeof source === 'string' ? new Template(source) : undefined;
  return {
    encode: (text) => tokenizer.encode(text, { add_special_tokens: false }).ids.map(Number),
    decode: (ids) => tokenizer.decode([...ids], { skip_special_tokens: true }),
    chat: (messages) => {
      if (!template) {
        throw new Error(
          `model folder ${folder.dir}: tokenizer_config.json has no chat_template; send a prompt instead of messages`,
        );
      }
      const { bos_token: bos = '', eos_token: eos = '' } = folder.tokenizerConfig;
      return template.render({ messages, add_generation_prompt: true, bos_token: bos, eos_token: eos });
    },
  };
}
