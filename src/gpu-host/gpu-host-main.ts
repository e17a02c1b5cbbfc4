// GPU host process entry: wiring only. Started by a launcher like an agent host; owns every ONNX
// Runtime session of the system (DESIGN §8).
import { serveGpu } from './serve-gpu.js';

serveGpu();
