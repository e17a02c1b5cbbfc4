// The system file's models: ONNX files and model folders served by the GPU host, and models behind
// OpenAI-compatible servers that the GPU host asks for them.

import { checkPath } from './paths.js';
import { DEFAULTS } from './schema.js';
import type { ModelSpec, Raw, RemoteModelSpec } from './specs.js';
import type { ConfigIssue, FieldPath, YamlSource } from './yaml-source.js';

/** Fields that say how the GPU host runs a model itself: nothing for a server elsewhere. */
const LOCAL_ONLY = ['path', 'providers', 'threads', 'batching', 'warmup', 'maxRequestBytes', 'prefixCache'];
/** Fields of a remote model only. */
const REMOTE_ONLY = ['url', 'model', 'apiKeyEnv', 'timeoutMs'];

/** The declared models, in order; every problem goes to `issues`. */
export function readModels(source: YamlSource, raw: Raw, root: string, issues: ConfigIssue[]): ModelSpec[] {
  const seen = new Set<string>();
  return ((raw.models ?? []) as Raw[]).map((model, index) => {
    const at: FieldPath = ['models', index];
    const name = model.name as string;
    if (seen.has(name)) issues.push(source.issue([...at, 'name'], `duplicate model name "${name}"`));
    seen.add(name);
    const type = (model.type as ModelSpec['type'] | undefined) ?? 'onnx';
    const misplaced = type === 'openai' ? LOCAL_ONLY : REMOTE_ONLY;
    for (const field of misplaced.filter((field) => model[field] !== undefined)) {
      const why =
        type === 'openai'
          ? `a model of type openai is served elsewhere: "${field}" has no meaning for it`
          : `"${field}" is for models of type openai (this one is ${type})`;
      issues.push(source.issue([...at, field], why));
    }
    if (type === 'onnx' && model.prefixCache !== undefined)
      issues.push(source.issue([...at, 'prefixCache'], '"prefixCache" is for language models (type llm)'));
    const threads = (model.threads ?? {}) as Raw;
    const batching = (model.batching ?? {}) as Raw;
    return {
      name,
      type,
      path:
        type === 'openai'
          ? ''
          : (checkPath(
              source,
              [...at, 'path'],
              model.path as string,
              root,
              issues,
              type === 'llm' ? 'folder' : 'file',
            ) ?? ''),
      ...(type === 'openai' ? { remote: readRemote(source, at, model, issues) } : {}),
      providers: (model.providers as string[] | undefined) ?? [...DEFAULTS.providers],
      intraOpThreads: (threads.intraOp as number | undefined) ?? DEFAULTS.threads,
      interOpThreads: (threads.interOp as number | undefined) ?? DEFAULTS.threads,
      batching: {
        enabled: (batching.enabled as boolean | undefined) ?? DEFAULTS.batching.enabled,
        maxBatch: (batching.maxBatch as number | undefined) ?? DEFAULTS.batching.maxBatch,
        maxQueueDelayMs:
          (batching.maxQueueDelayMs as number | undefined) ?? DEFAULTS.batching.maxQueueDelayMs,
      },
      warmup: (model.warmup as boolean | undefined) ?? false,
      maxRequestBytes: (model.maxRequestBytes as number | undefined) ?? DEFAULTS.maxRequestBytes,
      ...(type === 'llm'
        ? { prefixCache: readPrefixCache(model.prefixCache as boolean | Raw | undefined) }
        : {}),
    };
  });
}

function readPrefixCache(value: boolean | Raw | undefined): ModelSpec['prefixCache'] {
  const options = typeof value === 'object' ? value : {};
  return {
    enabled: value !== false,
    maxBytes: (options.maxBytes as number | undefined) ?? DEFAULTS.prefixCache.maxBytes,
    blockTokens: (options.blockTokens as number | undefined) ?? DEFAULTS.prefixCache.blockTokens,
  };
}

function readRemote(source: YamlSource, at: FieldPath, model: Raw, issues: ConfigIssue[]): RemoteModelSpec {
  const url = ((model.url as string | undefined) ?? '').replace(/\/+$/, '');
  if (url && !URL.canParse(url)) issues.push(source.issue([...at, 'url'], `"${url}" is not a URL`));
  const apiKeyEnv = model.apiKeyEnv as string | undefined;
  return {
    url,
    model: (model.model as string | undefined) ?? '',
    ...(apiKeyEnv ? { apiKeyEnv } : {}),
    timeoutMs: (model.timeoutMs as number | undefined) ?? DEFAULTS.remoteTimeoutMs,
  };
}
