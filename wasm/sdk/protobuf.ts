// The little protobuf the SDK needs for inference payloads: varints, length-delimited fields.

export class ProtoWriter {
  private bytes: Uint8Array = new Uint8Array(64);
  private size: i32 = 0;

  private reserve(extra: i32): void {
    if (this.size + extra <= this.bytes.length) return;
    let capacity = this.bytes.length * 2;
    while (capacity < this.size + extra) capacity *= 2;
    const grown = new Uint8Array(capacity);
    grown.set(this.bytes.subarray(0, this.size));
    this.bytes = grown;
  }

  varint(value: u64): void {
    this.reserve(10);
    while (value >= 0x80) {
      this.bytes[this.size++] = <u8>((value & 0x7f) | 0x80);
      value >>= 7;
    }
    this.bytes[this.size++] = <u8>value;
  }

  tag(field: i32, wireType: i32): void {
    this.varint(<u64>((field << 3) | wireType));
  }

  bytesField(field: i32, data: Uint8Array): void {
    this.tag(field, 2);
    this.varint(<u64>data.length);
    this.reserve(data.length);
    this.bytes.set(data, this.size);
    this.size += data.length;
  }

  float32Field(field: i32, value: f32): void {
    this.tag(field, 5);
    this.reserve(4);
    store<f32>(this.bytes.dataStart + <usize>this.size, value);
    this.size += 4;
  }

  boolField(field: i32, value: bool): void {
    this.varintField(field, value ? 1 : 0);
  }

  varintField(field: i32, value: u64): void {
    this.tag(field, 0);
    this.varint(value);
  }

  stringField(field: i32, text: string): void {
    this.bytesField(field, Uint8Array.wrap(String.UTF8.encode(text)));
  }

  /** A packed repeated int64 field. */
  packedField(field: i32, values: i64[]): void {
    const inner = new ProtoWriter();
    for (let i = 0; i < values.length; i++) inner.varint(<u64>values[i]);
    this.bytesField(field, inner.finish());
  }

  finish(): Uint8Array {
    return this.bytes.slice(0, this.size);
  }
}

export class ProtoReader {
  at: i32 = 0;

  constructor(public bytes: Uint8Array) {}

  get done(): bool {
    return this.at >= this.bytes.length;
  }

  varint(): u64 {
    let value: u64 = 0;
    let shift: u64 = 0;
    while (this.at < this.bytes.length) {
      const byte = this.bytes[this.at++];
      value |= (<u64>(byte & 0x7f)) << shift;
      if ((byte & 0x80) == 0) return value;
      shift += 7;
    }
    abort("protobuf: truncated varint");
    return 0;
  }

  bytesValue(): Uint8Array {
    const length = <i32>this.varint();
    if (this.at + length > this.bytes.length) abort("protobuf: truncated field");
    const value = this.bytes.slice(this.at, this.at + length);
    this.at += length;
    return value;
  }

  float32Value(): f32 {
    if (this.at + 4 > this.bytes.length) abort("protobuf: truncated field");
    const value = load<f32>(this.bytes.dataStart + <usize>this.at);
    this.at += 4;
    return value;
  }

  stringValue(): string {
    return String.UTF8.decode(this.bytesValue().buffer);
  }

  /** Skips a field of the given wire type. */
  skip(wireType: i32): void {
    if (wireType == 0) this.varint();
    else if (wireType == 1) this.at += 8;
    else if (wireType == 2) {
      // Read the length first: `this.at += this.varint()` would add to the position before it.
      const length = <i32>this.varint();
      this.at += length;
    }
    else if (wireType == 5) this.at += 4;
    else abort("protobuf: unsupported wire type");
  }
}
