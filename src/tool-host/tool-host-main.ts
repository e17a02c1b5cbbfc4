// Tool host process entry: wiring only. Started by a launcher like the GPU host; runs the MCP
// servers of the system and calls their tools (issue 28).
import { serveTools } from './serve-tools.js';

serveTools();
