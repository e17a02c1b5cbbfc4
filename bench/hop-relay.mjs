// Child of bench/tool-floor.mjs: one process of the chain a tool call crosses, doing none of the
// work. ROLE=agent sends every frame straight back (an agent host whose agent calls again at once);
// ROLE=tools calls `echo` on the MCP server for every frame, then sends the frame back (a tool host
// with nothing to decode or check). Frames travel as the supervisor's do: length-prefixed, fd 3.
import { Socket } from 'node:net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { FrameReader, writeFrame } from '../dist/launch/frame-stream.js';

const pipe = new Socket({ fd: 3, readable: true, writable: true });
const send = (frame) => writeFrame(pipe, frame);

let client;
if (process.env.ROLE === 'tools') {
  client = new Client({ name: 'floor', version: '1' });
  await client.connect(
    new StdioClientTransport({
      command: process.execPath,
      args: [process.env.SERVER, 'stdio'],
      stderr: 'ignore',
    }),
  );
}
const reader = new FrameReader(1 << 20, {
  frame: async (frame) => {
    if (client) await client.callTool({ name: 'echo', arguments: { message: 'hello' } });
    send(frame);
  },
  oversize: () => process.exit(70),
});
pipe.on('data', (chunk) => reader.push(chunk));
pipe.on('close', () => process.exit(0));
send(Buffer.from('ready'));
