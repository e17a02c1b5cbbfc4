// Models shipped from the coordinator to a node (a GPU host placed there), over a real
// nats-server: an LLM-shaped folder arrives whole and checked; what the coordinator was not asked
// to serve is refused; a listing that points outside the model's folder, or bytes that do not
// match their listing, are refused by name and leave nothing in the node's cache.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  connectNats,
  ModelFetcher,
  type ModelListing,
  ModelServer,
  type NatsConnection,
  startLocalNats,
  startsWithGpuLoad,
} from '../src/cluster/index.js';
import { decodeGpuFrame, encodeGpuFrame } from '../src/protocol/index.js';
import { removeTempDirs, tempDir } from './helpers/system.js';

const cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  removeTempDirs();
});

async function connected(): Promise<NatsConnection> {
  const nats = await startLocalNats();
  cleanups.push(() => nats.stop());
  const nc = await connectNats(nats.url, 'model test', { token: nats.token });
  cleanups.push(() => nc.close());
  return nc;
}

/** A folder shaped like an LLM's: weights over several chunks, a tokenizer, a nested file. */
function llmFolder(): string {
  const dir = join(tempDir(), 'tiny-llm');
  mkdirSync(join(dir, 'onnx'), { recursive: true });
  writeFileSync(
    join(dir, 'onnx', 'model.onnx'),
    new Uint8Array(700_000).map((_, i) => (i * 31) % 253),
  );
  writeFileSync(join(dir, 'tokenizer.json'), '{"model":{"vocab":{}}}');
  writeFileSync(join(dir, 'config.json'), '{}');
  return dir;
}

describe('model shipping', () => {
  it('ships a model folder in chunks, checked, into a folder of its own; a Load is rewritten to it', async () => {
    const nc = await connected();
    const server = new ModelServer(nc, 'm');
    cleanups.push(() => server.close());
    const model = llmFolder();
    const onnx = join(tempDir(), 'mlp.onnx');
    writeFileSync(onnx, new Uint8Array([8, 1, 2, 3]));
    server.allow(model);
    server.allow(onnx);
    const cache = join(tempDir(), 'models');
    const fetcher = new ModelFetcher(nc, 'm', cache);
    // Asked twice at once, it is fetched once.
    const [here, again] = await Promise.all([fetcher.localPath(model), fetcher.localPath(model)]);
    expect(again).toBe(here);
    for (const file of ['onnx/model.onnx', 'tokenizer.json', 'config.json'])
      expect(readFileSync(join(here, file)).equals(readFileSync(join(model, file))), file).toBe(true);
    // One folder per model, named by its listing; nothing half-made is left.
    expect(readdirSync(cache)).toEqual([expect.stringMatching(/^[0-9a-f]{32}$/)]);
    // The GPU host's Load is given this node's paths; other frames are left alone.
    const load = encodeGpuFrame({
      commands: [
        {
          load: {
            models: [
              { name: 'llm', path: model, kind: 'llm' },
              { name: 'mlp', path: onnx },
            ],
          },
        },
      ],
    });
    const infer = encodeGpuFrame({ commands: [{ infer: { id: 'r1', model: 'mlp' } }] });
    expect(startsWithGpuLoad(load)).toBe(true);
    expect(startsWithGpuLoad(infer)).toBe(false);
    expect(await fetcher.localizeLoad(infer)).toBeUndefined();
    const localized = decodeGpuFrame((await fetcher.localizeLoad(load)) as Uint8Array);
    if (!localized.ok) throw new Error(localized.error);
    const paths = localized.frame.commands[0]?.load?.models?.map((spec) => spec.path);
    expect(paths?.[0]).toBe(here);
    expect(paths?.[1]).toMatch(new RegExp(`^${cache}/[0-9a-f]{32}/mlp\\.onnx$`));
    expect(readFileSync(paths?.[1] as string)).toEqual(Buffer.from([8, 1, 2, 3]));
    // A model the coordinator was not asked to serve, and a file outside a listing, are refused.
    await expect(fetcher.localPath('/etc')).rejects.toThrow('the coordinator serves no model at "/etc"');
    const reply = await nc.request(
      'troupe.m.model',
      JSON.stringify({ path: model, file: '../x', offset: 0 }),
    );
    expect(new TextDecoder().decode(reply.data.subarray(1))).toBe(`model "${model}" has no file "../x"`);
  }, 60_000);

  it('refuses a listing that leaves the folder and bytes that do not match, keeping nothing', async () => {
    const nc = await connected();
    const answers: { listing: ModelListing; bytes: Uint8Array } = {
      listing: { kind: 'folder', files: [{ path: '../escape', size: 3, sha256: '0'.repeat(64) }] },
      bytes: new Uint8Array([1, 2, 3]),
    };
    // A coordinator that answers what the test says.
    nc.subscribe('troupe.f.model', {
      callback: (_error, message) => {
        const request = JSON.parse(new TextDecoder().decode(message.data)) as { file?: string };
        if (request.file === undefined) {
          const text = new TextEncoder().encode(JSON.stringify(answers.listing));
          message.respond(new Uint8Array([0, ...text]));
        } else {
          const reply = new Uint8Array(5 + answers.bytes.length);
          new DataView(reply.buffer).setUint32(1, answers.bytes.length, true);
          reply.set(answers.bytes, 5);
          message.respond(reply);
        }
      },
    });
    const cache = join(tempDir(), 'models');
    const fetcher = new ModelFetcher(nc, 'f', cache);
    await expect(fetcher.localPath('/m')).rejects.toThrow('the listing of model "/m" is malformed');
    answers.listing = { kind: 'folder', files: [{ path: 'weights.bin', size: 3, sha256: 'ab'.repeat(32) }] };
    await expect(fetcher.localPath('/m')).rejects.toThrow(
      'file "weights.bin" of model "/m" came altered (SHA-256 039058c6f2c0…, listed abababababab…)',
    );
    expect(readdirSync(cache)).toEqual([]);
  }, 60_000);
});
