// Compiles an agent module and refuses it, by name, when it steps outside ABI v1.

import { ABI_IMPORTS, ABI_MODULE, REQUIRED_EXPORTS, RESERVED_PREFIX } from '../abi/index.js';
import { errorText } from '../protocol/index.js';

export type ModuleCheck = { ok: true; module: WebAssembly.Module } | { ok: false; reason: string };

/**
 * The check a host makes on the module it is given (already metered, so it carries the meter's
 * reserved exports): it compiles, and imports and exports only what ABI v1 allows.
 */
export function compileAgentModule(bytes: Uint8Array, label: string): ModuleCheck {
  let module: WebAssembly.Module;
  try {
    module = new WebAssembly.Module(bytes);
  } catch (error) {
    return { ok: false, reason: `${label} is not a valid WebAssembly module: ${errorText(error)}` };
  }
  const problem = checkImports(module, label) ?? checkExports(module, label);
  return problem ? { ok: false, reason: problem } : { ok: true, module };
}

/**
 * The check the supervisor makes on an agent's own module before metering it (and `troupe
 * validate` makes too): the host's checks, and no export in the meter's reserved namespace.
 */
export function checkAgentModule(bytes: Uint8Array, label: string): ModuleCheck {
  const compiled = compileAgentModule(bytes, label);
  if (!compiled.ok) return compiled;
  const reserved = WebAssembly.Module.exports(compiled.module).find((entry) =>
    entry.name.startsWith(RESERVED_PREFIX),
  );
  if (reserved) {
    return {
      ok: false,
      reason: `${label} exports "${reserved.name}": names starting with "${RESERVED_PREFIX}" are reserved for Troupe's meter`,
    };
  }
  return compiled;
}

function checkImports(module: WebAssembly.Module, label: string): string | undefined {
  const allowed = Object.keys(ABI_IMPORTS)
    .map((name) => `${ABI_MODULE}.${name}`)
    .join(', ');
  for (const entry of WebAssembly.Module.imports(module)) {
    const kind = entry.module === ABI_MODULE ? ABI_IMPORTS[entry.name] : undefined;
    if (kind === undefined) {
      return `${label} imports "${entry.module}.${entry.name}", which ABI ${ABI_MODULE} does not offer (allowed: ${allowed})`;
    }
    if (kind !== entry.kind) {
      return `${label} imports "${entry.module}.${entry.name}" as a ${entry.kind}, but ABI ${ABI_MODULE} offers a ${kind}`;
    }
  }
  return undefined;
}

function checkExports(module: WebAssembly.Module, label: string): string | undefined {
  const exports = new Map(WebAssembly.Module.exports(module).map((entry) => [entry.name, entry.kind]));
  for (const [name, kind] of Object.entries(REQUIRED_EXPORTS)) {
    const found = exports.get(name);
    if (found === undefined) return `${label} does not export "${name}" (ABI ${ABI_MODULE} requires it)`;
    if (found !== kind)
      return `${label} exports "${name}" as a ${found}, but ABI ${ABI_MODULE} requires a ${kind}`;
  }
  return undefined;
}
