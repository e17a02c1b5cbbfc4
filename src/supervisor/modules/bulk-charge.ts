// What the meter finds in a module's bodies (loops, bulk operations), and the charge of bulk
// operations by their length: `memory.fill`, `memory.copy` and `memory.init` one
// unit plus one per 64 bytes, `table.grow` one plus one per 8 elements. The length operand of
// each is wrapped in a call to a charge function that counts the fuel down (and traps at zero)
// and returns the length unchanged, so the operation then runs as written. binaryen.js has no
// accessors for table.fill, table.copy and table.init: a module using them is refused by name, as
// is any instruction the walk below does not know (the meter fails closed).
import binaryen from 'binaryen';

type Walkable = Record<string, unknown> & { id: number };

interface LengthAccess {
  getSize(expression: binaryen.ExpressionRef): binaryen.ExpressionRef;
  setSize(expression: binaryen.ExpressionRef, size: binaryen.ExpressionRef): void;
}

// binaryen.js has these expression classes (index.js), but its typings do not declare them.
const accessors = binaryen as unknown as {
  MemoryFill: LengthAccess;
  MemoryCopy: LengthAccess;
  MemoryInit: LengthAccess;
  TableGrow: {
    getDelta(expression: binaryen.ExpressionRef): binaryen.ExpressionRef;
    setDelta(expression: binaryen.ExpressionRef, delta: binaryen.ExpressionRef): void;
  };
};

/** Child expression fields, by expression id. Lane indices and memarg offsets are not children. */
const CHILDREN = new Map<number, readonly string[]>([
  [binaryen.BlockId, ['children']],
  [binaryen.IfId, ['condition', 'ifTrue', 'ifFalse']],
  [binaryen.LoopId, ['body']],
  [binaryen.BreakId, ['condition', 'value']],
  [binaryen.SwitchId, ['condition', 'value']],
  [binaryen.CallId, ['operands']],
  [binaryen.CallIndirectId, ['target', 'operands']],
  [binaryen.LocalGetId, []],
  [binaryen.LocalSetId, ['value']],
  [binaryen.GlobalGetId, []],
  [binaryen.GlobalSetId, ['value']],
  [binaryen.TableGetId, ['index']],
  [binaryen.TableSetId, ['index', 'value']],
  [binaryen.TableSizeId, []],
  [binaryen.TableGrowId, ['value', 'delta']],
  [binaryen.LoadId, ['ptr']],
  [binaryen.StoreId, ['ptr', 'value']],
  [binaryen.ConstId, []],
  [binaryen.UnaryId, ['value']],
  [binaryen.BinaryId, ['left', 'right']],
  [binaryen.SelectId, ['ifTrue', 'ifFalse', 'condition']],
  [binaryen.DropId, ['value']],
  [binaryen.ReturnId, ['value']],
  [binaryen.NopId, []],
  [binaryen.UnreachableId, []],
  [binaryen.PopId, []],
  [binaryen.MemorySizeId, []],
  [binaryen.MemoryGrowId, ['delta']],
  [binaryen.SIMDExtractId, ['vec']],
  [binaryen.SIMDReplaceId, ['vec', 'value']],
  [binaryen.SIMDShuffleId, ['left', 'right']],
  [binaryen.SIMDTernaryId, ['a', 'b', 'c']],
  [binaryen.SIMDShiftId, ['vec', 'shift']],
  [binaryen.SIMDLoadId, ['ptr']],
  [binaryen.SIMDLoadStoreLaneId, ['ptr', 'vec']],
  [binaryen.MemoryInitId, ['dest', 'offset', 'size']],
  [binaryen.DataDropId, []],
  [binaryen.MemoryCopyId, ['dest', 'source', 'size']],
  [binaryen.MemoryFillId, ['dest', 'value', 'size']],
  [binaryen.RefNullId, []],
  [binaryen.RefIsNullId, ['value']],
  [binaryen.RefAsId, ['value']],
  [binaryen.RefFuncId, []],
  [binaryen.RefEqId, ['left', 'right']],
  [binaryen.TupleMakeId, ['operands']],
  [binaryen.TupleExtractId, ['tuple']],
]);

export interface Charged {
  expression: binaryen.ExpressionRef;
  /** Which charge function: bytes (memory) or elements (tables). */
  per: 'bytes' | 'elements';
}

/** What a module's function bodies hold that the meter charges: bulk operations and loops. */
export interface Metered {
  bulk: Charged[];
  loops: binaryen.ExpressionRef[];
}

/** Walks every function body of the module; returns what it found, or why it cannot be metered. */
export function scanBodies(module: binaryen.Module): Metered | string {
  const found: Metered = { bulk: [], loops: [] };
  for (let i = 0; i < module.getNumFunctions(); i++) {
    const info = binaryen.getFunctionInfo(module.getFunctionByIndex(i));
    if (info.module || !info.body) continue;
    const problem = collect(info.body, found);
    if (problem) return `function "${info.name}" uses ${problem}`;
  }
  return found;
}

/**
 * Wraps the length of every bulk operation found in a charge call. `fuel` is the meter's global;
 * `empty` what runs when it falls below zero.
 */
export function chargeBulkOperations(
  module: binaryen.Module,
  fuel: string,
  names: { bytes: string; elements: string },
  empty: () => binaryen.ExpressionRef,
  found: readonly Charged[],
): void {
  if (found.length === 0) return;
  addChargeFunction(module, fuel, names.bytes, 6, empty);
  addChargeFunction(module, fuel, names.elements, 3, empty);
  for (const { expression, per } of found) {
    const call = (length: binaryen.ExpressionRef) =>
      module.call(per === 'bytes' ? names.bytes : names.elements, [length], binaryen.i32);
    const id = binaryen.getExpressionId(expression);
    const kind =
      id === binaryen.MemoryFillId
        ? accessors.MemoryFill
        : id === binaryen.MemoryCopyId
          ? accessors.MemoryCopy
          : id === binaryen.MemoryInitId
            ? accessors.MemoryInit
            : undefined;
    if (kind) kind.setSize(expression, call(kind.getSize(expression)));
    else accessors.TableGrow.setDelta(expression, call(accessors.TableGrow.getDelta(expression)));
  }
}

/** Walks one body (iteratively: bodies nest deeply), noting bulk operations and loops; returns a refusal. */
function collect(body: binaryen.ExpressionRef, found: Metered): string | undefined {
  const stack = [body];
  while (stack.length > 0) {
    const expression = stack.pop() as binaryen.ExpressionRef;
    // getExpressionInfo throws for expressions binaryen.js has no class for: ask the id first.
    const id = binaryen.getExpressionId(expression);
    const fields = CHILDREN.get(id);
    if (fields === undefined)
      return `${instructionName(expression)}, which Troupe's meter cannot charge (ABI v1 agents may not use it)`;
    // Leaves (nop, unreachable, ref.null, ...) have no children, and some no class either.
    if (fields.length === 0) continue;
    const info = binaryen.getExpressionInfo(expression) as unknown as Walkable;
    if (id === binaryen.MemoryFillId || id === binaryen.MemoryCopyId || id === binaryen.MemoryInitId)
      found.bulk.push({ expression, per: 'bytes' });
    else if (id === binaryen.TableGrowId) found.bulk.push({ expression, per: 'elements' });
    else if (id === binaryen.LoopId) found.loops.push(expression);
    for (const field of fields) {
      const value = info[field];
      if (Array.isArray(value)) for (const child of value) pushChild(stack, child);
      else pushChild(stack, value);
    }
  }
  return undefined;
}

/** "table.fill" from "(table.fill $0 ...)": the instruction as a person would know it. */
function instructionName(expression: binaryen.ExpressionRef): string {
  const text = binaryen.emitText(expression);
  return text.match(/^\s*\(?([a-z0-9_.]+)/)?.[1] ?? 'an unknown instruction';
}

function pushChild(stack: binaryen.ExpressionRef[], child: unknown): void {
  if (typeof child === 'number' && child !== 0) stack.push(child);
}

/** (func $name (param $n i32) (result i32)): fuel -= 1 + (n >>> shift); `empty()` below zero; n. */
function addChargeFunction(
  module: binaryen.Module,
  fuel: string,
  name: string,
  shift: number,
  empty: () => binaryen.ExpressionRef,
): void {
  const length = () => module.local.get(0, binaryen.i32);
  const remaining = () => module.global.get(fuel, binaryen.i32);
  const cost = module.i32.add(module.i32.const(1), module.i32.shr_u(length(), module.i32.const(shift)));
  module.addFunction(
    name,
    binaryen.i32,
    binaryen.i32,
    [],
    module.block(
      null,
      [
        module.global.set(fuel, module.i32.sub(remaining(), cost)),
        module.if(module.i32.lt_s(remaining(), module.i32.const(0)), empty()),
        length(),
      ],
      binaryen.i32,
    ),
  );
}
