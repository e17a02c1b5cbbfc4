// Public surface of the tool host: MCP servers as it starts, lists and calls them.
export { type CallOutcome, McpServer, type ToolInfo } from './mcp-server.js';
