// `troupe validate <file>`: the config file, then each agent's module against ABI v1 (imports,
// required exports, the meter's reserved names), so a module a run would refuse is named here.
import { readFileSync } from 'node:fs';
import { checkAgentModule } from '../actors/index.js';
import { errorText } from '../protocol/index.js';
import { validateFile } from '../supervisor/index.js';

/** Resolves to the exit code: 0 when the file and every module are good, 1 otherwise. */
export function validateCommand(file: string, root: string | undefined): number {
  const problems: string[] = [];
  for (const agent of validateFile(file, { root })) {
    const label = `module ${agent.modulePath}`;
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(agent.modulePath);
    } catch (error) {
      problems.push(`agent "${agent.name}": cannot read ${label}: ${errorText(error)}`);
      continue;
    }
    const check = checkAgentModule(bytes, label);
    if (!check.ok) problems.push(`agent "${agent.name}": ${check.reason}`);
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
