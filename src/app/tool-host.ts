// Entry of the tool host process in the desktop app's build (a utilityProcess): it starts the
// MCP servers a system declares (issue 28).
import '../tool-host/tool-host-main.js';
