// A byte-level BPE tokenizer (GPT-2 style, as SmolLM2 and Qwen2.5 use) trained in code on a small
// corpus and written as `tokenizer.json`: nothing is downloaded, and the merges are real ones.

const SPLIT = / ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

/** GPT-2's reversible map from bytes to printable characters. */
export function bytesToUnicode(): string[] {
  const printable = new Set<number>();
  for (const [from, to] of [
    [33, 126],
    [161, 172],
    [174, 255],
  ] as const) {
    for (let byte = from; byte <= to; byte++) printable.add(byte);
  }
  let extra = 0;
  return Array.from({ length: 256 }, (_, byte) =>
    String.fromCodePoint(printable.has(byte) ? byte : 256 + extra++),
  );
}

export interface TokenizerFiles {
  tokenizer: object;
  config: object;
  vocabSize: number;
  specials: Record<string, number>;
}

export const SPECIAL_TOKENS = ['<|endoftext|>', '<|im_start|>', '<|im_end|>'] as const;

/** A ChatML template, as SmolLM2 and Qwen2.5 ship. */
export const CHAT_TEMPLATE =
  "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

export function trainTokenizer(corpus: string, merges: number): TokenizerFiles {
  const byteChars = bytesToUnicode();
  const encoder = new TextEncoder();
  const counts = new Map<string, number>();
  for (const word of corpus.match(SPLIT) ?? []) {
    const chars = [...encoder.encode(word)].map((byte) => byteChars[byte] as string).join(' ');
    counts.set(chars, (counts.get(chars) ?? 0) + 1);
  }
  let words = [...counts.entries()].map(([symbols, count]) => ({ symbols: symbols.split(' '), count }));
  const vocab: Record<string, number> = {};
  byteChars.forEach((char, index) => {
    vocab[char] = index;
  });
  const learned: string[] = [];
  for (let round = 0; round < merges; round++) {
    const pairs = new Map<string, number>();
    for (const { symbols, count } of words) {
      for (let i = 0; i + 1 < symbols.length; i++) {
        const pair = `${symbols[i]} ${symbols[i + 1]}`;
        pairs.set(pair, (pairs.get(pair) ?? 0) + count);
      }
    }
    // Most frequent first; ties by the pair's text, so training is deterministic.
    const best = [...pairs.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0];
    if (!best || best[1] < 2) break;
    const [left, right] = best[0].split(' ') as [string, string];
    learned.push(best[0]);
    vocab[left + right] = Object.keys(vocab).length;
    words = words.map(({ symbols, count }) => {
      const merged: string[] = [];
      for (let i = 0; i < symbols.length; i++) {
        if (symbols[i] === left && symbols[i + 1] === right) {
          merged.push(left + right);
          i++;
        } else {
          merged.push(symbols[i] as string);
        }
      }
      return { symbols: merged, count };
    });
  }
  const specials: Record<string, number> = {};
  const added = SPECIAL_TOKENS.map((content) => {
    const id = Object.keys(vocab).length;
    vocab[content] = id;
    specials[content] = id;
    return {
      id,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    };
  });
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
  const tokenizer = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: byteLevel,
    decoder: byteLevel,
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      vocab,
      merges: learned,
    },
  };
  const config = {
    tokenizer_class: 'GPT2Tokenizer',
    bos_token: '<|im_start|>',
    eos_token: '<|im_end|>',
    pad_token: '<|endoftext|>',
    unk_token: '<|endoftext|>',
    add_prefix_space: false,
    clean_up_tokenization_spaces: false,
    model_max_length: 2048,
    chat_template: CHAT_TEMPLATE,
  };
  return { tokenizer, config, vocabSize: Object.keys(vocab).length, specials };
}
