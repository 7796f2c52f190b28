/**
 * The safetensors format (huggingface/safetensors, "Format"): an unsigned 64-bit little-endian
 * header length N, N bytes of JSON header
 *   { "<name>": { "dtype": "F32", "shape": [...], "data_offsets": [begin, end] }, …,
 *     "__metadata__": { "<key>": "<string value>" } }
 * (padded with spaces so that the data starts 8-byte aligned), then the tensors' bytes,
 * little-endian, row-major, each at [begin, end) of the data section, contiguous and in header order.
 * Only float32 is written: segloss's weights are float32.
 */
import { InputError } from '../util/errors.js';

export interface SafetensorsTensor {
  name: string;
  /** Row-major shape (PyTorch layout). */
  shape: number[];
  data: Float32Array;
}

interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

/** The bytes of a safetensors file holding `tensors` (in this order) and string metadata. */
export function encodeSafetensors(tensors: readonly SafetensorsTensor[], metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, HeaderEntry | Record<string, string>> = {};
  if (Object.keys(metadata).length > 0) header['__metadata__'] = metadata;
  let offset = 0;
  const seen = new Set<string>();
  for (const t of tensors) {
    if (seen.has(t.name) || t.name === '__metadata__') throw new Error(`safetensors: duplicate or reserved tensor name '${t.name}'`);
    seen.add(t.name);
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length) throw new Error(`safetensors: '${t.name}' has ${t.data.length} values for shape [${t.shape}]`);
    header[t.name] = { dtype: 'F32', shape: [...t.shape], data_offsets: [offset, offset + 4 * count] };
    offset += 4 * count;
  }
  let json = JSON.stringify(header);
  const jsonBytes = () => new TextEncoder().encode(json);
  // Pad with spaces so that 8 + N is a multiple of 8 (the reference writer's alignment).
  while ((8 + jsonBytes().length) % 8 !== 0) json += ' ';
  const headerBytes = jsonBytes();
  const out = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let pos = 8 + headerBytes.length;
  for (const t of tensors) {
    for (let i = 0; i < t.data.length; i++, pos += 4) view.setFloat32(pos, t.data[i] as number, true);
  }
  return out;
}

export interface DecodedSafetensors {
  tensors: Map<string, { dtype: string; shape: number[]; data: Float32Array }>;
  metadata: Record<string, string>;
  /** Tensor names in header order. */
  order: string[];
}

/** Read safetensors bytes (float32 tensors only); `file` names the source in errors. */
export function decodeSafetensors(bytes: Uint8Array, file?: string): DecodedSafetensors {
  if (bytes.length < 8) throw new InputError(file, 'not a safetensors file (shorter than 8 bytes)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(view.getBigUint64(0, true));
  if (8 + n > bytes.length) throw new InputError(file, `safetensors header of ${n} bytes does not fit in ${bytes.length} bytes`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<string, unknown>;
  } catch {
    throw new InputError(file, 'safetensors header is not valid JSON');
  }
  const dataStart = 8 + n;
  const tensors: DecodedSafetensors['tensors'] = new Map();
  const order: string[] = [];
  let metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = value as Record<string, string>;
      continue;
    }
    const e = value as HeaderEntry;
    if (e.dtype !== 'F32') throw new InputError(file, `tensor '${name}': dtype ${e.dtype}, only F32 is read`);
    const [begin, end] = e.data_offsets;
    const count = e.shape.reduce((a, b) => a * b, 1);
    if (end - begin !== 4 * count || dataStart + end > bytes.length) throw new InputError(file, `tensor '${name}': data_offsets [${begin}, ${end}] do not match shape [${e.shape}]`);
    const data = new Float32Array(count);
    for (let i = 0; i < count; i++) data[i] = view.getFloat32(dataStart + begin + 4 * i, true);
    tensors.set(name, { dtype: e.dtype, shape: e.shape, data });
    order.push(name);
  }
  return { tensors, metadata, order };
}
