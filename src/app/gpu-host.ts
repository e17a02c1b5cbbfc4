// Entry of the GPU host process in the desktop app's build (a utilityProcess).
import '../gpu-host/gpu-host-main.js';
