// What a host process may know of the supervisor's environment: nothing but what it needs. A
// secret in the supervisor's environment (an API key, a token) must not be readable in
// /proc/<host>/environ, nor by a host that was compromised through its agent.

/** Variables a host inherits when the supervisor has them: what a platform's process start reads. */
const INHERITED = new Set(['SYSTEMROOT', 'WINDIR', 'TZ']);

/** Inherited by the GPU host only: library search paths and device selection for its providers. */
const GPU_INHERITED = new Set([
  'PATH',
  'LD_LIBRARY_PATH',
  'DYLD_LIBRARY_PATH',
  'CUDA_VISIBLE_DEVICES',
  'CUDA_PATH',
]);

/**
 * Inherited by the tool host only: what the MCP servers it starts get by default (the MCP SDK's
 * own allow-list); anything more a server gets is declared in the system file.
 */
const TOOLS_INHERITED = new Set(['HOME', 'LOGNAME', 'PATH', 'SHELL', 'TERM', 'USER']);

export function hostEnvironment(
  parent: NodeJS.ProcessEnv,
  options: { name: string; extra?: Record<string, string>; gpu?: boolean; tools?: boolean },
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(parent)) {
    if (value === undefined) continue;
    const gpu = options.gpu && (GPU_INHERITED.has(key) || key.startsWith('ORT_'));
    const tools = options.tools && TOOLS_INHERITED.has(key);
    if (INHERITED.has(key) || gpu || tools) env[key] = value;
  }
  return { ...env, ...options.extra, TROUPE_HOST_NAME: options.name };
}
