/**
 * The inputs and outputs an ONNX file declares (names, element types, shapes with fixed or symbolic
 * dims), read straight from its protobuf without loading the weights into a runtime: checking a
 * manifest against its network at load time costs milliseconds even for a 500 MB model.
 *
 * Field numbers from onnx.proto3: ModelProto.graph = 7; GraphProto.initializer = 5, input = 11,
 * output = 12; ValueInfoProto.name = 1, type = 2; TypeProto.tensor_type = 1; Tensor.elem_type = 1,
 * shape = 2; TensorShapeProto.dim = 1; Dimension.dim_value = 1, dim_param = 2; TensorProto.name = 8.
 */
import { readFile } from 'node:fs/promises';
import { HolocaseError } from '../errors.ts';

export interface OnnxTensorInfo {
  name: string;
  /** ONNX element type name, e.g. `float32`. */
  type: string;
  /** One entry per dim: a number when fixed, the symbol (or `?`) when not. */
  shape: (number | string)[];
}

export interface OnnxSignature {
  inputs: OnnxTensorInfo[];
  outputs: OnnxTensorInfo[];
}

const ELEMENT_TYPES: Record<number, string> = {
  1: 'float32', 2: 'uint8', 3: 'int8', 4: 'uint16', 5: 'int16', 6: 'int32', 7: 'int64', 8: 'string', 9: 'bool',
  10: 'float16', 11: 'float64', 12: 'uint32', 13: 'uint64', 16: 'bfloat16',
};

/** A protobuf field: number, wire type, and its value (varint) or byte range (length-delimited). */
interface Field {
  number: number;
  wire: number;
  varint: number;
  start: number;
  end: number;
}

class Reader {
  pos: number;
  constructor(readonly bytes: Uint8Array, start: number, readonly end: number) {
    this.pos = start;
  }

  varint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new Error('truncated varint');
      const b = this.bytes[this.pos++];
      result += (b & 0x7f) * scale;
      if (b < 0x80) return result;
      scale *= 128;
    }
    throw new Error('varint too long');
  }

  /** Next field, or undefined at the end. */
  next(): Field | undefined {
    if (this.pos >= this.end) return undefined;
    const key = this.varint();
    const number = Math.floor(key / 8);
    const wire = key & 7;
    const field: Field = { number, wire, varint: 0, start: 0, end: 0 };
    switch (wire) {
      case 0:
        field.varint = this.varint();
        break;
      case 1:
        this.pos += 8;
        break;
      case 2: {
        const length = this.varint();
        field.start = this.pos;
        field.end = this.pos + length;
        if (field.end > this.end) throw new Error('length-delimited field runs past its message');
        this.pos = field.end;
        break;
      }
      case 5:
        this.pos += 4;
        break;
      default:
        throw new Error(`unsupported wire type ${wire}`);
    }
    return field;
  }

  *fields(): Generator<Field> {
    for (let f = this.next(); f; f = this.next()) yield f;
  }

  sub(field: Field): Reader {
    return new Reader(this.bytes, field.start, field.end);
  }

  text(field: Field): string {
    return new TextDecoder().decode(this.bytes.subarray(field.start, field.end));
  }
}

function readValueInfo(r: Reader): OnnxTensorInfo {
  let name = '';
  let type = 'unknown';
  const shape: (number | string)[] = [];
  for (const f of r.fields()) {
    if (f.number === 1 && f.wire === 2) name = r.text(f);
    if (f.number !== 2 || f.wire !== 2) continue;
    const typeProto = r.sub(f);
    for (const t of typeProto.fields()) {
      if (t.number !== 1 || t.wire !== 2) continue; // tensor_type
      const tensor = typeProto.sub(t);
      for (const tf of tensor.fields()) {
        if (tf.number === 1 && tf.wire === 0) type = ELEMENT_TYPES[tf.varint] ?? `type ${tf.varint}`;
        if (tf.number === 2 && tf.wire === 2) {
          const shapeProto = tensor.sub(tf);
          for (const d of shapeProto.fields()) {
            if (d.number !== 1 || d.wire !== 2) continue;
            const dim = shapeProto.sub(d);
            let value: number | string = '?';
            for (const df of dim.fields()) {
              if (df.number === 1 && df.wire === 0) value = df.varint;
              if (df.number === 2 && df.wire === 2) value = dim.text(df);
            }
            shape.push(value);
          }
        }
      }
    }
  }
  return { name, type, shape };
}

/** Reads the graph signature from ONNX bytes. */
export function parseOnnxSignature(bytes: Uint8Array, source = 'ONNX file'): OnnxSignature {
  try {
    const model = new Reader(bytes, 0, bytes.length);
    let graph: Reader | undefined;
    for (const f of model.fields()) if (f.number === 7 && f.wire === 2) graph = model.sub(f);
    if (!graph) throw new Error('it holds no graph');
    const inputs: OnnxTensorInfo[] = [];
    const outputs: OnnxTensorInfo[] = [];
    const initializers = new Set<string>();
    for (const f of graph.fields()) {
      if (f.wire !== 2) continue;
      if (f.number === 11) inputs.push(readValueInfo(graph.sub(f)));
      else if (f.number === 12) outputs.push(readValueInfo(graph.sub(f)));
      else if (f.number === 5) {
        const tensor = graph.sub(f);
        for (const tf of tensor.fields()) if (tf.number === 8 && tf.wire === 2) initializers.add(tensor.text(tf));
      }
    }
    // Older exports list weights among the inputs too; only the others are fed.
    const fed = inputs.filter((i) => !initializers.has(i.name));
    if (fed.length === 0 || outputs.length === 0) throw new Error('its graph declares no inputs or no outputs');
    return { inputs: fed, outputs };
  } catch (error) {
    throw new HolocaseError('MODEL_INVALID', `${source} is not a readable ONNX model: ${(error as Error).message}`);
  }
}

/** Reads the graph signature of an ONNX file. */
export async function readOnnxSignature(path: string): Promise<OnnxSignature> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new HolocaseError('MODEL_INVALID', `the model's weights file ${path} is missing`);
    throw error;
  }
  return parseOnnxSignature(bytes, path);
}
