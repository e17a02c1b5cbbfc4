// Entry of a model's worker thread in the desktop app's build (found via TROUPE_MODEL_WORKER).
import '../gpu-host/model-worker.js';
