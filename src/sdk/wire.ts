// Just enough protobuf for the SDK's inference messages (proto/troupe/v1/inference.proto):
// varints, fixed 32-bit floats, and length-delimited fields.
import { decodeText, encodeText } from './payload.js';

export class ProtoWriter {
  readonly #bytes: number[] = [];

  varint(field: number, value: number | bigint): this {
    this.#tag(field, 0);
    this.#varint(BigInt.asUintN(64, BigInt(value)));
    return this;
  }

  float(field: number, value: number): this {
    this.#tag(field, 5);
    const view = new DataView(new ArrayBuffer(4));
    view.setFloat32(0, value, true);
    for (let index = 0; index < 4; index++) this.#bytes.push(view.getUint8(index));
    return this;
  }

  bytes(field: number, value: Uint8Array): this {
    this.#tag(field, 2);
    this.#varint(BigInt(value.byteLength));
    for (let index = 0; index < value.byteLength; index++) this.#bytes.push(value[index] as number);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, encodeText(value));
  }

  packed(field: number, values: readonly number[]): this {
    const inner = new ProtoWriter();
    for (const value of values) inner.#varint(BigInt.asUintN(64, BigInt(value)));
    return this.bytes(field, inner.finish());
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.#bytes);
  }

  #tag(field: number, wire: number): void {
    this.#varint(BigInt((field << 3) | wire));
  }

  #varint(value: bigint): void {
    let rest = value;
    while (rest >= 0x80n) {
      this.#bytes.push(Number(rest & 0x7fn) | 0x80);
      rest >>= 7n;
    }
    this.#bytes.push(Number(rest));
  }
}

export interface Field {
  field: number;
  wire: number;
  /** Varints and fixed32 values. */
  number: bigint;
  /** Length-delimited values. */
  bytes: Uint8Array;
}

/** The fields of one message, in wire order; throws on a malformed message. */
export function readFields(bytes: Uint8Array): Field[] {
  const fields: Field[] = [];
  let at = 0;
  const varint = (): bigint => {
    let value = 0n;
    let shift = 0n;
    for (;;) {
      if (at >= bytes.length) throw new Error('truncated protobuf varint');
      const byte = bytes[at++] as number;
      value |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return value;
      shift += 7n;
    }
  };
  while (at < bytes.length) {
    const tag = Number(varint());
    const field = tag >>> 3;
    const wire = tag & 7;
    if (wire === 0) fields.push({ field, wire, number: varint(), bytes: new Uint8Array(0) });
    else if (wire === 2) {
      const length = Number(varint());
      if (at + length > bytes.length) throw new Error('truncated protobuf field');
      fields.push({ field, wire, number: 0n, bytes: bytes.subarray(at, at + length) });
      at += length;
    } else if (wire === 5 || wire === 1) {
      const size = wire === 5 ? 4 : 8;
      const view = new DataView(bytes.buffer, bytes.byteOffset + at, size);
      const number = size === 4 ? BigInt(view.getUint32(0, true)) : view.getBigUint64(0, true);
      fields.push({ field, wire, number, bytes: new Uint8Array(0) });
      at += size;
    } else throw new Error(`unsupported protobuf wire type ${wire}`);
  }
  return fields;
}

export function fieldText(field: Field): string {
  return decodeText(field.bytes);
}

/** Packed or unpacked repeated varints of one field number. */
export function varints(fields: readonly Field[], number: number): number[] {
  const values: number[] = [];
  for (const field of fields) {
    if (field.field !== number) continue;
    if (field.wire === 0) values.push(Number(BigInt.asIntN(64, field.number)));
    else if (field.wire === 2) for (const inner of readPacked(field.bytes)) values.push(inner);
  }
  return values;
}

function readPacked(bytes: Uint8Array): number[] {
  const values: number[] = [];
  let value = 0n;
  let shift = 0n;
  for (const byte of bytes) {
    value |= BigInt(byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) {
      values.push(Number(BigInt.asIntN(64, value)));
      value = 0n;
      shift = 0n;
    } else shift += 7n;
  }
  return values;
}
