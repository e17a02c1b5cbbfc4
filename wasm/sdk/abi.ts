// ABI v1 imports (module "troupe.v1"). See docs/abi.md. Agents use the wrappers in index.ts.

@external("troupe.v1", "send")
export declare function abiSend(ptr: usize, len: i32): i32;

@external("troupe.v1", "log")
export declare function abiLog(level: i32, ptr: usize, len: i32): void;

@external("troupe.v1", "now")
export declare function abiNow(): i64;

@external("troupe.v1", "random")
export declare function abiRandom(): f64;

@external("troupe.v1", "next_seq")
export declare function abiNextSeq(): i64;

@external("troupe.v1", "self")
export declare function abiSelf(ptr: usize, capacity: i32): i32;

@external("troupe.v1", "correlation")
export declare function abiCorrelation(ptr: usize, capacity: i32): i32;

@external("troupe.v1", "send_delayed")
export declare function abiSendDelayed(delay: i32, ptr: usize, len: i32): i32;
