// Models behind OpenAI-compatible servers, served by the GPU host like its own language models.
export { MAX_ANSWER_CHARS, RemoteEntry, type RemoteEvents } from './remote-entry.js';
export { StopScanner } from './stop-scanner.js';
