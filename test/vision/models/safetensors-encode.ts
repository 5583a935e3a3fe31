/** Writes the format by hand: u64 LE header length, JSON header, raw little-endian bytes. */
export function encodeSafetensors(
  entries: Record<string, { dtype: string; shape: number[]; bytes: Buffer }>,
): Buffer {
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let offset = 0;
  for (const [name, e] of Object.entries(entries)) {
    header[name] = {
      dtype: e.dtype,
      shape: e.shape,
      data_offsets: [offset, offset + e.bytes.length],
    };
    offset += e.bytes.length;
  }
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([len, json, ...Object.values(entries).map((e) => e.bytes)]);
}
