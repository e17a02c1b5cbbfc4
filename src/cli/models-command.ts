// `troupe models <system>`: starts the GPU host alone, loads every declared model and lists where
// each runs (the provider probe's outcome, with the reason each preferred provider was passed over).
import { NodeLauncher } from '../launch/index.js';
import {
  GpuAlone,
  loadSystem,
  type RemoteModelSpec,
  type RuntimeEvent,
  systemClock,
} from '../supervisor/index.js';

export async function modelsCommand(
  file: string,
  options: { json: boolean; root?: string },
): Promise<number> {
  const spec = loadSystem(file, { root: options.root });
  if (spec.models.length === 0) {
    process.stdout.write(options.json ? '' : `${spec.name}: no models declared\n`);
    return 0;
  }
  const outcomes: RuntimeEvent[] = [];
  let finished!: () => void;
  const loaded = new Promise<void>((resolve) => {
    finished = resolve;
  });
  const gpu = new GpuAlone({
    launcher: new NodeLauncher(),
    models: spec.models,
    clock: systemClock,
    // Alone, with no tree above it: a GPU host that dies is reported, not restarted.
    onExit: (reason) => {
      process.stderr.write(`troupe: ${reason}\n`);
      finished();
    },
    onEvent: (event) => {
      if (event.type === 'model.ready' || event.type === 'model.failed') outcomes.push(event);
      if (outcomes.length === spec.models.length) finished();
    },
  });
  gpu.start();
  await loaded;
  await gpu.stop();
  const order = spec.models.map((model) => model.name);
  const rank = (event: RuntimeEvent) => order.indexOf('model' in event ? event.model : '');
  outcomes.sort((a, b) => rank(a) - rank(b));
  for (const event of outcomes) {
    const remote = spec.models.find((model) => 'model' in event && model.name === event.model)?.remote;
    process.stdout.write(`${options.json ? JSON.stringify(event) : describe(event, remote)}\n`);
  }
  const allReady =
    outcomes.length === spec.models.length && outcomes.every((event) => event.type === 'model.ready');
  return allReady ? 0 : 2;
}

function describe(event: RuntimeEvent, remote: RemoteModelSpec | undefined): string {
  if (event.type === 'model.ready' && remote) {
    // Nothing is sent to a remote server until an agent generates: it is not probed here.
    return `${event.model}: "${remote.model}" at ${remote.url} (OpenAI-compatible; text generation, asked only when an agent generates)`;
  }
  if (event.type === 'model.ready') {
    const lines = [
      `${event.model}: ready on ${event.provider} (loaded in ${event.loadMs} ms), batching ${event.batching ? 'on' : 'off'}`,
      `  inputs  ${event.inputs.join('; ')}`,
      `  outputs ${event.outputs.join('; ')}`,
      ...event.skipped.map((skip) => `  skipped ${skip.provider}: ${skip.reason}`),
    ];
    return lines.join('\n');
  }
  if (event.type === 'model.failed') {
    return [
      `${event.model}: FAILED: ${event.reason}`,
      ...event.skipped.map((s) => `  skipped ${s.provider}: ${s.reason}`),
    ].join('\n');
  }
  return '';
}
