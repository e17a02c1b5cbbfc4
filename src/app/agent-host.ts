// Entry of the agent host process in the desktop app's build (a utilityProcess).
import '../actors/host-main.js';
