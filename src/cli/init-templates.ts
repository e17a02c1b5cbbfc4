// The files `troupe init` writes: a small system of two TypeScript agents greeting each other,
// ready to run, type-check and change.

export interface ProjectFiles {
  [path: string]: string;
}

/** `troupe`: the dependency spec for Troupe itself (a version range, or file:<folder>). */
export function projectFiles(name: string, troupe: string): ProjectFiles {
  const system = `${name}.system.yaml`;
  return {
    'package.json': packageJson(name, troupe, system),
    [system]: systemFile(name, system),
    'agents/greeter.ts': GREETER,
    'tsconfig.json': TSCONFIG,
    '.gitignore': 'node_modules/\n*.journal\n',
    'README.md': readme(name, system),
  };
}

function packageJson(name: string, troupe: string, system: string): string {
  return `${JSON.stringify(
    {
      name,
      private: true,
      type: 'module',
      scripts: {
        start: `troupe run ${system} --until-idle`,
        dev: `troupe run ${system} --watch`,
        check: 'tsc -p .',
      },
      devDependencies: { troupe, typescript: '^5.9.0' },
      // npm 11 runs only the install scripts this field allows, and warns of those it does not
      // name: onnxruntime-node's would fetch CUDA libraries (Troupe runs models on the CPU
      // without them; docs/inference.md says how to enable a GPU), esbuild's checks its binary.
      allowScripts: { 'onnxruntime-node': false, esbuild: true },
    },
    null,
    2,
  )}\n`;
}

function systemFile(name: string, system: string): string {
  return `# yaml-language-server: $schema=./node_modules/troupe/schema/system.schema.json
# Two agents greet each other for a few rounds, then the system is idle and the run ends.
# Run: npm start   (troupe run ${system} --until-idle)
name: ${name}
seed: 1
agents:
  - name: alice
    module: ./agents/greeter.ts
    init: { peer: bob, rounds: 3, start: true }
    capabilities:
      sendTo: [bob]
  - name: bob
    module: ./agents/greeter.ts
    init: { peer: alice, rounds: 3 }
    capabilities:
      sendTo: [alice]
`;
}

const GREETER = `// A greeter: says hello to its peer, and answers each greeting with the next round's, until the
// last round. Its state is kept by Troupe (snapshots, replay); handlers run one message at a time.
import { defineAgent } from 'troupe/agent';

interface Settings {
  peer: string;
  rounds: number;
  start?: boolean;
}

interface Greeting {
  round: number;
  text: string;
}

export default defineAgent<Settings, { greeting: Greeting }>({
  state: { peer: '', rounds: 1 },
  init(ctx, data) {
    ctx.state = data.json() as Settings;
    if (ctx.state.start) ctx.send(ctx.state.peer, 'greeting', { round: 1, text: \`hello from \${ctx.self}\` });
  },
  on: {
    greeting(message, ctx) {
      const { round, text } = message.json();
      ctx.log(\`\${message.from} says "\${text}" (round \${round})\`);
      if (round < ctx.state.rounds) {
        ctx.reply(message, 'greeting', { round: round + 1, text: \`hello from \${ctx.self}\` });
      }
    },
  },
});
`;

const TSCONFIG = `${JSON.stringify(
  {
    compilerOptions: {
      target: 'es2022',
      // Agents run in a sandbox: the language's own library, nothing of Node or the browser.
      lib: ['es2022'],
      types: [],
      module: 'esnext',
      moduleResolution: 'bundler',
      strict: true,
      noEmit: true,
      skipLibCheck: true,
    },
    include: ['agents'],
  },
  null,
  2,
)}\n`;

function readme(name: string, system: string): string {
  return `# ${name}

A [Troupe](https://github.com/troupe) system: agents in TypeScript, each in its own sandbox,
messages in a deterministic order, crashes restarted by their supervisor.

- \`npm start\`: run the system until it is idle, then print a summary.
- \`npm run dev\`: run it and restart an agent whenever its source changes.
- \`npm run check\`: type-check the agents against Troupe's SDK (\`troupe/agent\`).
- \`npx troupe help\`: every command; \`npx troupe run --help\`: the flags of one.

\`${system}\` declares the agents; \`agents/greeter.ts\` is one. An agent is
\`defineAgent({ state, init, on: { kind: handler } })\`: handlers get the message and a context
with \`send\`, \`reply\`, \`log\`, \`state\` and more. Agents cannot reach files, the network, timers or
the clock: \`Date.now()\` is logical time and \`Math.random()\` is seeded, so every run is the same.
`;
}
