// Public surface of the tool host: MCP servers as it starts, lists and calls them, and the
// conversions of their declarations to and from its protocol.
export { type CallOutcome, McpServer, type ToolInfo } from './mcp-server.js';
export { specOf, ToolHost } from './tool-host.js';
