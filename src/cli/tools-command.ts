// `troupe tools <system>`: starts (or reaches) every declared MCP server and lists its tools with
// their input schemas, and checks the agents' grants of single tools against what exists.
import { closest, loadSystem, type SystemSpec } from '../supervisor/index.js';
import { McpServer, type ToolInfo } from '../tool-host/index.js';

type Listing = { server: string; tools: ToolInfo[] } | { server: string; failed: string };

export async function toolsCommand(file: string, options: { json: boolean; root?: string }): Promise<number> {
  const spec = loadSystem(file, { root: options.root });
  if (spec.tools.length === 0) {
    process.stdout.write(options.json ? '' : `${spec.name}: no tool servers declared\n`);
    return 0;
  }
  const listings = await Promise.all(spec.tools.map((tool) => list(tool)));
  for (const listing of listings)
    process.stdout.write(`${options.json ? JSON.stringify(listing) : describe(listing)}\n`);
  const grants = unknownGrants(spec, listings);
  for (const problem of grants) process.stderr.write(`troupe: ${problem}\n`);
  return listings.some((listing) => 'failed' in listing) || grants.length > 0 ? 2 : 0;
}

async function list(tool: SystemSpec['tools'][number]): Promise<Listing> {
  let server: McpServer | undefined;
  try {
    server = await McpServer.connect(tool);
    return { server: tool.name, tools: await server.listTools() };
  } catch (error) {
    return { server: tool.name, failed: error instanceof Error ? error.message : String(error) };
  } finally {
    await server?.close();
  }
}

function describe(listing: Listing): string {
  if ('failed' in listing) return `${listing.server}: FAILED: ${listing.failed}`;
  const lines = [
    `${listing.server}: ${listing.tools.length} ${listing.tools.length === 1 ? 'tool' : 'tools'}`,
  ];
  for (const tool of listing.tools) {
    lines.push(`  ${tool.name}(${signature(tool.inputSchema)})`);
    if (tool.description) lines.push(`    ${tool.description.split('\n')[0]}`);
  }
  return lines.join('\n');
}

/** `path: string, head?: number` from a JSON Schema of an object. */
function signature(schema: Record<string, unknown>): string {
  const properties = (schema.properties ?? {}) as Record<string, { type?: unknown }>;
  const required = new Set((schema.required ?? []) as string[]);
  return Object.entries(properties)
    .map(([name, property]) => `${name}${required.has(name) ? '' : '?'}: ${typeName(property.type)}`)
    .join(', ');
}

function typeName(type: unknown): string {
  if (Array.isArray(type)) return type.join(' | ');
  return typeof type === 'string' ? type : 'any';
}

/** Grants of single tools (`fs/read_file`) that the server listed does not have. */
function unknownGrants(spec: SystemSpec, listings: readonly Listing[]): string[] {
  const tools = new Map(
    listings.flatMap((listing) =>
      'tools' in listing ? [[listing.server, listing.tools.map((tool) => tool.name)]] : [],
    ),
  );
  const problems: string[] = [];
  for (const agent of spec.agents) {
    for (const grant of agent.tools) {
      const [server = '', tool] = grant.split('/');
      const names = tools.get(server);
      if (tool === undefined || !names || names.includes(tool)) continue;
      const near = closest(tool, names);
      problems.push(
        `agent "${agent.name}" is granted "${grant}", but tool server "${server}" has no tool "${tool}"${near ? ` (did you mean "${server}/${near}"?)` : ''} (${agent.declaredAt})`,
      );
    }
  }
  return problems;
}
