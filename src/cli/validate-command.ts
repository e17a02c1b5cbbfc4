// `troupe validate <file>`: the config file, then each agent's module as a run would take it: a
// WebAssembly module against ABI v1 (imports, required exports, the meter's reserved names), a
// TypeScript or JavaScript agent bundled (its imports resolved inside the project). So a module a
// run would refuse is named here.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { checkAgentModule } from '../actors/index.js';
import { errorText } from '../protocol/index.js';
import {
  type AgentSpec,
  bundleAgent,
  findProjectRoot,
  isScriptModule,
  scriptMemoryRefusal,
  validateFile,
} from '../supervisor/index.js';

/** Resolves to the exit code: 0 when the file and every module are good, 1 otherwise. */
export async function validateCommand(file: string, root: string | undefined): Promise<number> {
  const problems: string[] = [];
  const projectRoot = resolve(root ?? findProjectRoot(dirname(resolve(file))));
  for (const agent of validateFile(file, { root })) {
    const problem = isScriptModule(agent.modulePath)
      ? await checkScript(agent, projectRoot)
      : checkWasm(agent);
    if (problem) problems.push(`agent "${agent.name}": ${problem}`);
  }
  if (problems.length > 0) {
    process.stderr.write(
      `${file}: ${problems.length} agent module${problems.length === 1 ? '' : 's'} would be refused:\n`,
    );
    for (const problem of problems) process.stderr.write(`  ${problem}\n`);
    return 1;
  }
  process.stdout.write(`${file}: ok\n`);
  return 0;
}

function checkWasm(agent: AgentSpec): string | undefined {
  const label = `module ${agent.modulePath}`;
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(agent.modulePath);
  } catch (error) {
    return `cannot read ${label}: ${errorText(error)}`;
  }
  const check = checkAgentModule(bytes, label);
  return check.ok ? undefined : check.reason;
}

async function checkScript(agent: AgentSpec, root: string): Promise<string | undefined> {
  const tooSmall = scriptMemoryRefusal(agent);
  if (tooSmall) return tooSmall;
  const bundle = await bundleAgent(agent.modulePath, root);
  return bundle.ok ? undefined : bundle.reason;
}
