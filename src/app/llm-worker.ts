// Entry of a language model's worker thread in the desktop app's build (found via TROUPE_LLM_WORKER).
import '../gpu-host/llm/llm-worker.js';
