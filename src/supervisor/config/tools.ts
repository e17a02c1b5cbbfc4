// The system file's tool servers (MCP), and the agents' grants of their tools.
import { resolve } from 'node:path';
import { DEFAULTS } from './schema.js';
import type { Raw, ToolServerSpec } from './specs.js';
import type { ConfigIssue, FieldPath, YamlSource } from './yaml-source.js';

/** Stands for the system file's folder in a stdio server's command, arguments, variables and cwd. */
// biome-ignore lint/suspicious/noTemplateCurlyInString: the placeholder users write, not a template.
export const SYSTEM_FOLDER = '${systemFolder}';

/** The declared tool servers, in order; every problem goes to `issues`. */
export function readTools(source: YamlSource, raw: Raw, issues: ConfigIssue[]): ToolServerSpec[] {
  const seen = new Set<string>();
  const folder = resolve(source.file, '..');
  const servers: ToolServerSpec[] = [];
  ((raw.tools ?? []) as Raw[]).forEach((tool, index) => {
    const at: FieldPath = ['tools', index];
    const name = tool.name as string;
    if (seen.has(name)) issues.push(source.issue([...at, 'name'], `duplicate tool server name "${name}"`));
    seen.add(name);
    const mcp = tool.mcp as Raw | undefined;
    const url = tool.url as string | undefined;
    if ((mcp === undefined) === (url === undefined)) {
      const why = mcp ? 'both mcp: and url:' : 'neither mcp: nor url:';
      issues.push(
        source.issue(
          at,
          `tool server "${name}" needs mcp: (a command) or url: (an endpoint), one of them; it has ${why}`,
        ),
      );
      return;
    }
    // "${systemFolder}" in a server's arguments, variables and folder is this file's folder: a
    // server that takes an absolute path (the memory server's file) gets one on every machine.
    const expand = (text: string) => text.replaceAll(SYSTEM_FOLDER, folder);
    const env = (mcp?.env ?? {}) as Record<string, string>;
    const transport: ToolServerSpec['transport'] = mcp
      ? {
          type: 'stdio',
          command: expand(mcp.command as string),
          args: ((mcp.args as string[] | undefined) ?? []).map(expand),
          env: Object.fromEntries(Object.entries(env).map(([key, value]) => [key, expand(value)])),
          cwd: resolve(folder, expand((mcp.cwd as string | undefined) ?? '.')),
        }
      : { type: 'http', url: url as string };
    if (transport.type === 'http' && !URL.canParse(transport.url))
      issues.push(source.issue([...at, 'url'], `"${transport.url}" is not a URL`));
    servers.push({
      name,
      transport,
      timeoutMs: (tool.timeoutMs as number | undefined) ?? DEFAULTS.toolTimeoutMs,
      maxAnswerBytes: (tool.maxAnswerBytes as number | undefined) ?? DEFAULTS.toolMaxAnswerBytes,
      maxConcurrent: (tool.maxConcurrent as number | undefined) ?? DEFAULTS.toolMaxConcurrent,
    });
  });
  return servers;
}

/** Each grant must name a declared server (a single tool is checked when the server lists its tools). */
export function checkToolGrants(
  source: YamlSource,
  at: FieldPath,
  grants: readonly string[],
  servers: ReadonlySet<string>,
  issues: ConfigIssue[],
): void {
  grants.forEach((grant, index) => {
    const server = grant.split('/')[0] as string;
    if (servers.has(server)) return;
    const declared = servers.size > 0 ? [...servers].join(', ') : 'none';
    const message = `tool server "${server}" is not declared in the system file's tools (declared: ${declared})`;
    issues.push(source.issue([...at, 'capabilities', 'tools', index], message));
  });
}
