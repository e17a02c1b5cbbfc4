// Agent host process (or thread) entry: wiring only. Started by a launcher; serves the agents it
// is told to load.
import { serveAgents } from './serve-agents.js';

serveAgents();
