// Opening a model's ONNX Runtime session in a worker thread: providers probed one by one (CPU last),
// the outcome as a load report, and the session's inputs and outputs described for the host.
import ort from 'onnxruntime-node';
import type { ModelDim } from './model-info.js';
import { probeProviders } from './provider-probe.js';
import type { ProviderSkipped, WorkerModelSpec, WorkerTensorMeta } from './worker-messages.js';

// Failed provider probes are reported by us, with reasons; ORT's own log would repeat them raw.
ort.env.logLevel = 'fatal';

export type OpenedSession =
  | {
      session: ort.InferenceSession;
      provider: string;
      skipped: ProviderSkipped[];
      inputs: WorkerTensorMeta[];
      outputs: WorkerTensorMeta[];
    }
  | { failed: string; skipped: ProviderSkipped[] };

export async function openSession(path: string, spec: WorkerModelSpec): Promise<OpenedSession> {
  const probe = await probeProviders(spec.providers, ort.listSupportedBackends(), (provider) =>
    ort.InferenceSession.create(path, {
      executionProviders: [provider],
      intraOpNumThreads: spec.intraOpThreads,
      interOpNumThreads: spec.interOpThreads,
      logSeverityLevel: 4,
    }),
  );
  const { session, provider } = probe;
  // Even CPU failed: its reason is the model's (corrupt file, unsupported operator...).
  if (!session || !provider) {
    const cpu = probe.skipped.find((skip) => skip.provider === 'cpu')?.reason ?? 'no provider could load it';
    return { failed: cpu, skipped: probe.skipped.filter((skip) => skip.provider !== 'cpu') };
  }
  const inputs = describe(session.inputMetadata);
  const outputs = describe(session.outputMetadata);
  return { session, provider, skipped: probe.skipped, inputs, outputs };
}

function describe(metadata: readonly ort.InferenceSession.ValueMetadata[]): WorkerTensorMeta[] {
  return metadata.map((value) => {
    if (!value.isTensor) return { name: value.name, dtype: 'unsupported', dims: [] };
    const dims: ModelDim[] = value.shape.map((dim) =>
      typeof dim === 'number' && dim >= 0 ? dim : String(dim),
    );
    return { name: value.name, dtype: value.type, dims };
  });
}
