// Reads every file of the workspace through the filesystem MCP server, keeps a note on each in
// the memory server's knowledge graph (replacing the last run's), and writes a summary of them
// back through the filesystem server. Each step waits for the answers of the last: tools are
// called by message and answered by message.
import { defineAgent, readToolError, readToolResult, TOOL_ERROR, TOOL_RESULT } from 'troupe/agent';

interface State {
  /** What each call in flight is for. */
  calls: Record<string, { step: 'mkdir' | 'list' | 'read' | 'forget' | 'remember' | 'write'; file?: string }>;
  files: string[];
  /** Per file: its lines and words. */
  read: Record<string, { lines: number; words: number; title: string }>;
}

export default defineAgent<State>({
  state: { calls: {}, files: [], read: {} },
  init(ctx) {
    // The summary goes to workspace/out/. Paths are relative to the folder the filesystem server
    // was given (./workspace).
    ctx.state.calls[ctx.callTool('fs', 'create_directory', { path: 'out' })] = { step: 'mkdir' };
  },
  on: {
    [TOOL_RESULT](message, ctx) {
      const call = ctx.state.calls[message.correlationId];
      if (!call) return;
      delete ctx.state.calls[message.correlationId];
      const text = readToolResult(message).text;
      if (call.step === 'mkdir') {
        ctx.state.calls[ctx.callTool('fs', 'list_directory', { path: '.' })] = { step: 'list' };
      } else if (call.step === 'list') {
        // "[FILE] actors.md" lines; folders (the summary's out/) are left alone.
        ctx.state.files = text
          .split('\n')
          .filter((line) => line.startsWith('[FILE] '))
          .map((line) => line.slice('[FILE] '.length))
          .sort();
        for (const file of ctx.state.files) {
          const id = ctx.callTool('fs', 'read_text_file', { path: file });
          ctx.state.calls[id] = { step: 'read', file };
        }
      } else if (call.step === 'read' && call.file) {
        const lines = text.split('\n').filter((line) => line.trim() !== '');
        const words = lines.join(' ').split(/\s+/).filter(Boolean).length;
        ctx.state.read[call.file] = { lines: lines.length, words, title: lines[0]?.replace(/^#\s*/, '') ?? '' };
        if (Object.keys(ctx.state.read).length < ctx.state.files.length) return;
        // The last run's notes go first, so every run leaves the same graph.
        const forget = ctx.callTool('memory', 'delete_entities', { entityNames: ctx.state.files });
        ctx.state.calls[forget] = { step: 'forget' };
      } else if (call.step === 'forget') {
        const entities = ctx.state.files.map((file) => {
          const { lines, words, title } = ctx.state.read[file] ?? { lines: 0, words: 0, title: '' };
          return { name: file, entityType: 'document', observations: [`titled "${title}"`, `${lines} lines, ${words} words`] };
        });
        ctx.state.calls[ctx.callTool('memory', 'create_entities', { entities })] = { step: 'remember' };
      } else if (call.step === 'remember') {
        const rows = ctx.state.files.map((file) => {
          const { lines, words, title } = ctx.state.read[file] ?? { lines: 0, words: 0, title: '' };
          return `| ${file} | ${title} | ${lines} | ${words} |`;
        });
        const content = ['# Summary of the workspace', '', '| file | first line | lines | words |', '|---|---|---|---|', ...rows, ''].join('\n');
        ctx.state.calls[ctx.callTool('fs', 'write_file', { path: 'out/summary.md', content })] = { step: 'write' };
      } else if (call.step === 'write') {
        ctx.log(`wrote workspace/out/summary.md: ${ctx.state.files.length} files, each noted in the memory server`);
      }
    },
    [TOOL_ERROR](message, ctx) {
      const error = readToolError(message);
      ctx.error(`${error.code}: ${error.message}`);
    },
  },
});
