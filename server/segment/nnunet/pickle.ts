/**
 * A Python pickle reader that builds data and never runs anything. Pickles name Python callables
 * (`GLOBAL module name`) and ask for them to be called (`REDUCE`, `NEWOBJ`, `BUILD`); here a callable is
 * only ever one of the pure data constructors the caller lists in `findClass` (an `OrderedDict`, a
 * tensor view on a storage, bytes from `_codecs.encode`). Every other global becomes an inert
 * `PickleObject` that records its name and arguments: a checkpoint's optimizer state, training log or
 * `torch.device` is read as data and ignored, and nothing is imported or executed, whatever the file says.
 *
 * Opcodes follow CPython's `Lib/pickletools.py` (protocols 0–5; out-of-band buffers and the extension
 * registry are refused). Values: `None` → null, int → number (bigint beyond 2^53), str → string,
 * bytes → Uint8Array, tuple and list → arrays, dict → Map (keys need not be strings), set → Set.
 */

/** A module-level name the pickle refers to and no `findClass` entry resolved. */
export class PickleGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}

  get qualifiedName(): string {
    return `${this.module}.${this.name}`;
  }
}

/** What calling an unresolved global would have made: its name, arguments and `BUILD` state, inert. */
export class PickleObject {
  state: unknown = undefined;
  /** Items a dict subclass received (`SETITEMS`). */
  dictItems: Map<unknown, unknown> | undefined;
  /** Items a list subclass received (`APPENDS`). */
  listItems: unknown[] | undefined;

  constructor(
    /** `module.name` of the callable, e.g. `torch.device`. */
    readonly type: string,
    readonly args: unknown[],
  ) {}
}

/** A constructor the caller allows: receives the call's arguments, returns plain data. */
export type PickleCallable = (...args: unknown[]) => unknown;

/** Objects made by allowed constructors that take a `BUILD` state (e.g. numpy's dtype byte order). */
export interface PickleBuildable {
  setState(state: unknown): void;
}

export interface UnpickleOptions {
  /** The data constructor for `module.name`, or undefined for an inert placeholder. */
  findClass?: (module: string, name: string) => PickleCallable | undefined;
  /** Resolves a persistent id (`PERSID` / `BINPERSID`; torch uses them for tensor storages). */
  persistentLoad?: (pid: unknown) => unknown;
  /** What to call the pickle in error messages. */
  name?: string;
}

/** A pickle that cannot be read: `offset` is where in the byte stream it went wrong. */
export class PickleError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
    this.name = 'PickleError';
  }
}

/** Python 2 module names that protocol-2 pickles use for builtins. */
const MODULE_ALIASES: Record<string, string> = { __builtin__: 'builtins', copy_reg: 'copyreg' };

function dictFromPairs(pairs: unknown): Map<unknown, unknown> {
  const map = new Map<unknown, unknown>();
  if (Array.isArray(pairs)) for (const pair of pairs) if (Array.isArray(pair) && pair.length === 2) map.set(pair[0], pair[1]);
  return map;
}

/** Constructors every pickle may use: containers and bytes, nothing with behaviour. */
export function builtinClass(module: string, name: string): PickleCallable | undefined {
  switch (`${module}.${name}`) {
    case 'collections.OrderedDict':
    case 'collections.defaultdict':
    case 'builtins.dict':
      return (pairs?: unknown) => dictFromPairs(pairs);
    case 'builtins.set':
    case 'builtins.frozenset':
      return (items?: unknown) => new Set(Array.isArray(items) ? items : []);
    case 'builtins.list':
      return (items?: unknown) => (Array.isArray(items) ? [...items] : []);
    case 'builtins.bytes':
    case 'builtins.bytearray':
      return (value?: unknown) => (value instanceof Uint8Array ? value : new Uint8Array(0));
    case '_codecs.encode':
      // Protocol 2 writes Python 3 bytes as `_codecs.encode(text, "latin1")`.
      return (text?: unknown, encoding?: unknown) =>
        typeof text === 'string' ? (encoding === 'latin1' || encoding === 'latin-1' ? Uint8Array.from(text, (c) => c.charCodeAt(0) & 0xff) : new TextEncoder().encode(text)) : new Uint8Array(0);
    default:
      return undefined;
  }
}

const MARK = Symbol('mark');

/** Reads a pickle into plain data. Throws `PickleError` on a malformed or truncated stream. */
export function unpickle(bytes: Uint8Array, options: UnpickleOptions = {}): unknown {
  const label = options.name ?? 'the pickle';
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const latin1 = new TextDecoder('latin1');
  const utf8 = new TextDecoder('utf-8');
  let pos = 0;
  const stack: unknown[] = [];
  const marks: number[] = [];
  const memo = new Map<number, unknown>();

  const fail = (message: string): never => {
    throw new PickleError(`${label} is not a readable pickle: ${message} (byte ${pos})`, pos);
  };
  const need = (n: number) => {
    if (n < 0 || pos + n > bytes.length) fail(`it ends in the middle of a value (${n} more bytes needed, ${bytes.length - pos} left)`);
  };
  const u8 = () => (need(1), bytes[pos++]);
  const u16 = () => (need(2), (pos += 2), view.getUint16(pos - 2, true));
  const i32 = () => (need(4), (pos += 4), view.getInt32(pos - 4, true));
  const u32 = () => (need(4), (pos += 4), view.getUint32(pos - 4, true));
  const u64 = () => {
    need(8);
    const value = view.getBigUint64(pos, true);
    pos += 8;
    if (value > BigInt(bytes.length)) fail(`a length of ${value} bytes is longer than the file`);
    return Number(value);
  };
  const take = (n: number) => (need(n), (pos += n), bytes.subarray(pos - n, pos));
  const line = () => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0) fail('a text line has no end');
    const text = latin1.decode(bytes.subarray(pos, end));
    pos = end + 1;
    return text;
  };
  const pop = () => (stack.length === 0 ? fail('the stack is empty') : stack.pop());
  const top = () => (stack.length === 0 ? fail('the stack is empty') : stack[stack.length - 1]);
  const popMark = (): unknown[] => {
    const at = marks.pop();
    if (at === undefined) fail('no MARK before a collection');
    return stack.splice(at!);
  };
  const memoGet = (index: number) => (memo.has(index) ? memo.get(index) : fail(`memo entry ${index} was never stored`));
  const globalOf = (moduleName: string, name: string): unknown => {
    const module = MODULE_ALIASES[moduleName] ?? moduleName;
    return options.findClass?.(module, name) ?? builtinClass(module, name) ?? new PickleGlobal(module, name);
  };
  const call = (callable: unknown, args: unknown): unknown => {
    const list = Array.isArray(args) ? args : [];
    if (typeof callable === 'function') return (callable as PickleCallable)(...list);
    if (callable instanceof PickleGlobal) return new PickleObject(callable.qualifiedName, list);
    if (callable instanceof PickleObject) return new PickleObject(`${callable.type}()`, list);
    return fail('it calls something that is not a class or function');
  };
  const longFromBytes = (raw: Uint8Array): number | bigint => {
    if (raw.length === 0) return 0;
    let value = 0n;
    for (let i = raw.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(raw[i]);
    if (raw[raw.length - 1] & 0x80) value -= 1n << BigInt(raw.length * 8);
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
  };
  const intFromText = (text: string): number | bigint | boolean => {
    const t = text.replace(/L$/, '');
    if (t === '01') return true;
    if (t === '00') return false;
    if (!/^[-+]?\d+$/.test(t)) fail(`"${text}" is not an integer`);
    const big = BigInt(t);
    return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
  };
  const setItems = (target: unknown, items: unknown[]) => {
    if (items.length % 2) fail('a dict has a key without a value');
    for (let i = 0; i < items.length; i += 2) {
      if (target instanceof Map) target.set(items[i], items[i + 1]);
      else if (target instanceof PickleObject) (target.dictItems ??= new Map()).set(items[i], items[i + 1]);
      else fail('SETITEMS on something that is not a dict');
    }
  };
  const appendItems = (target: unknown, items: unknown[]) => {
    if (Array.isArray(target)) target.push(...items);
    else if (target instanceof Set) for (const item of items) target.add(item);
    else if (target instanceof PickleObject) (target.listItems ??= []).push(...items);
    else fail('APPENDS on something that is not a list');
  };

  while (true) {
    if (pos >= bytes.length) fail('it ends before its STOP opcode');
    const opcode = bytes[pos++];
    switch (opcode) {
      case 0x80: // PROTO
        if (u8() > 5) fail('it uses a pickle protocol newer than 5');
        break;
      case 0x95: // FRAME (protocol 4): a length hint only
        u64();
        break;
      case 0x2e: // STOP
        if (stack.length !== 1) fail(`it stops with ${stack.length} values on the stack instead of 1`);
        return stack[0];
      case 0x28: // MARK
        marks.push(stack.length);
        break;
      case 0x30: // POP
        if (marks.length && marks[marks.length - 1] === stack.length) marks.pop();
        else pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      // --- Scalars ---
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        stack.push(u16());
        break;
      case 0x4a: // BININT
        stack.push(i32());
        break;
      case 0x8a: // LONG1
        stack.push(longFromBytes(take(u8())));
        break;
      case 0x8b: // LONG4
        stack.push(longFromBytes(take(u32())));
        break;
      case 0x49: // INT
      case 0x4c: // LONG
        stack.push(intFromText(line()));
        break;
      case 0x47: // BINFLOAT (big-endian double)
        need(8);
        stack.push(view.getFloat64(pos, false));
        pos += 8;
        break;
      case 0x46: {
        // FLOAT
        const text = line();
        const value = Number(text);
        if (Number.isNaN(value) && !/nan/i.test(text)) fail(`"${text}" is not a number`);
        stack.push(value);
        break;
      }
      // --- Strings and bytes ---
      case 0x58: // BINUNICODE
        stack.push(utf8.decode(take(u32())));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(utf8.decode(take(u8())));
        break;
      case 0x8d: // BINUNICODE8
        stack.push(utf8.decode(take(u64())));
        break;
      case 0x56: // UNICODE (raw-unicode-escape)
        stack.push(line().replace(/\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g, (_m, a: string, b: string) => String.fromCodePoint(parseInt(a ?? b, 16))));
        break;
      case 0x54: // BINSTRING
        stack.push(latin1.decode(take(i32())));
        break;
      case 0x55: // SHORT_BINSTRING
        stack.push(latin1.decode(take(u8())));
        break;
      case 0x53: {
        // STRING: a quoted Python 2 str
        const text = line();
        const quoted = /^(['"])(.*)\1$/.exec(text);
        if (!quoted) fail('a STRING is not quoted');
        stack.push(quoted![2]);
        break;
      }
      case 0x42: // BINBYTES
        stack.push(take(u32()).slice());
        break;
      case 0x43: // SHORT_BINBYTES
        stack.push(take(u8()).slice());
        break;
      case 0x8e: // BINBYTES8
      case 0x96: // BYTEARRAY8
        stack.push(take(u64()).slice());
        break;
      // --- Containers ---
      case 0x29: // EMPTY_TUPLE
        stack.push([]);
        break;
      case 0x85: // TUPLE1
        stack.push([pop()]);
        break;
      case 0x86: {
        // TUPLE2
        const b = pop();
        stack.push([pop(), b]);
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        stack.push([pop(), b, c]);
        break;
      }
      case 0x74: // TUPLE
      case 0x6c: // LIST
        stack.push(popMark());
        break;
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x7d: // EMPTY_DICT
        stack.push(new Map());
        break;
      case 0x64: {
        // DICT
        const map = new Map();
        setItems(map, popMark());
        stack.push(map);
        break;
      }
      case 0x8f: // EMPTY_SET
        stack.push(new Set());
        break;
      case 0x91: // FROZENSET
        stack.push(new Set(popMark()));
        break;
      case 0x61: {
        // APPEND
        const item = pop();
        appendItems(top(), [item]);
        break;
      }
      case 0x65: // APPENDS
      case 0x90: {
        // ADDITEMS
        const items = popMark();
        appendItems(top(), items);
        break;
      }
      case 0x73: {
        // SETITEM
        const value = pop();
        const key = pop();
        setItems(top(), [key, value]);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        setItems(top(), items);
        break;
      }
      // --- Memo ---
      case 0x70: // PUT
        memo.set(Number(line()), top());
        break;
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x67: // GET
        stack.push(memoGet(Number(line())));
        break;
      case 0x68: // BINGET
        stack.push(memoGet(u8()));
        break;
      case 0x6a: // LONG_BINGET
        stack.push(memoGet(u32()));
        break;
      // --- Globals and calls: resolved only to the allowed data constructors ---
      case 0x63: {
        // GLOBAL
        const module = line();
        stack.push(globalOf(module, line()));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('STACK_GLOBAL needs two strings');
        stack.push(globalOf(module as string, name as string));
        break;
      }
      case 0x52: {
        // REDUCE
        const args = pop();
        stack.push(call(pop(), args));
        break;
      }
      case 0x81: {
        // NEWOBJ
        const args = pop();
        stack.push(call(pop(), args));
        break;
      }
      case 0x92: {
        // NEWOBJ_EX (kwargs ignored)
        pop();
        const args = pop();
        stack.push(call(pop(), args));
        break;
      }
      case 0x69: {
        // INST
        const module = line();
        const name = line();
        stack.push(call(globalOf(module, name), popMark()));
        break;
      }
      case 0x6f: {
        // OBJ
        const items = popMark();
        stack.push(call(items[0], items.slice(1)));
        break;
      }
      case 0x62: {
        // BUILD
        const state = pop();
        const target = top();
        if (target instanceof PickleObject) target.state = state;
        else if (target && typeof (target as PickleBuildable).setState === 'function') (target as PickleBuildable).setState(state);
        // A dict's or list's state (e.g. a state dict's `_metadata`) is attributes holocase does not need.
        break;
      }
      case 0x50: // PERSID
        stack.push(options.persistentLoad ? options.persistentLoad(line()) : fail('it refers to data outside the pickle (persistent id) and no loader was given'));
        break;
      case 0x51: {
        // BINPERSID
        const pid = pop();
        stack.push(options.persistentLoad ? options.persistentLoad(pid) : fail('it refers to data outside the pickle (persistent id) and no loader was given'));
        break;
      }
      case 0x82: // EXT1
      case 0x83: // EXT2
      case 0x84: // EXT4
        fail('it uses the copyreg extension registry, which holocase does not read');
        break;
      case 0x97: // NEXT_BUFFER
      case 0x98: // READONLY_BUFFER
        fail('it uses out-of-band buffers (protocol 5), which holocase does not read');
        break;
      default:
        fail(`unknown opcode 0x${opcode.toString(16).padStart(2, '0')}`);
    }
    if (stack.length > 1_000_000 || memo.size > 10_000_000) fail('it is unreasonably large');
  }
}
