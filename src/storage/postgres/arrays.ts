// Arrays as parameters in PostgreSQL's binary format (array_recv). pg sends a Buffer parameter
// as binary, so a bytea[] built here goes to the server as the bytes themselves; pg's own
// encoding of a JavaScript array would spell every value in hex inside a text literal (twice
// the bytes, and a string the size of the whole commit built in JavaScript).
const OID = { text: 25, bytea: 17 } as const;

export function binaryArray(type: keyof typeof OID, items: readonly Buffer[]): Buffer {
  if (items.length === 0) {
    const empty = Buffer.alloc(12);
    empty.writeInt32BE(0, 0); // no dimensions
    empty.writeInt32BE(0, 4); // no nulls
    empty.writeInt32BE(OID[type], 8);
    return empty;
  }
  let size = 20;
  for (const b of items) size += 4 + b.length;
  const out = Buffer.allocUnsafe(size);
  out.writeInt32BE(1, 0); // one dimension
  out.writeInt32BE(0, 4); // no nulls
  out.writeInt32BE(OID[type], 8);
  out.writeInt32BE(items.length, 12);
  out.writeInt32BE(1, 16); // lower bound
  let at = 20;
  for (const b of items) {
    out.writeInt32BE(b.length, at);
    b.copy(out, at + 4);
    at += 4 + b.length;
  }
  return out;
}
