// The three exports ABI v1 asks of every agent module. The build (scripts/build-wasm.mjs) compiles
// this file as a second entry next to each agent, so agents do not re-export anything themselves.
export { troupe_alloc, troupe_handle, troupe_init } from "./index";
