// The largest JSON-RPC message the server reads. Without a limit a client could make the
// server hold any amount of memory; with the SDK's own stdio limit (10 MiB) an oversized line
// closes the connection, which kills the server. So both transports read through a guard that
// drops an oversized message without holding it, and answers it: a tool call gets an ordinary
// tool error (EFBIG), anything else a JSON-RPC error, and the server goes on serving.
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

export const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;
/** Bytes kept from each end of a dropped message, to find its id, method and tool. */
export const KEEP = 4096;

const ID = '("(?:[^"\\\\]|\\\\.)*"|-?\\d+)';

/**
 * The answer to a message of `bytes` bytes that was dropped for its size, from its first and
 * last bytes (where JSON-RPC clients put "id"); undefined for a notification (no id).
 */
export function oversizeReply(head: string, tail: string, bytes: number): { reply?: JSONRPCMessage; what: string } {
  const idText = new RegExp(`"id"\\s*:\\s*${ID}\\s*\\}\\s*$`).exec(tail)?.[1] ?? new RegExp(`^\\s*\\{\\s*(?:"jsonrpc"\\s*:\\s*"2\\.0"\\s*,\\s*)?"id"\\s*:\\s*${ID}`).exec(head)?.[1];
  const method = /"method"\s*:\s*"([^"\\]{1,100})"/.exec(head)?.[1];
  const toolName = method === 'tools/call' ? /"name"\s*:\s*"([^"\\]{1,100})"/.exec(head)?.[1] : undefined;
  const mib = (n: number): string => `${Math.round((n / 1024 / 1024) * 10) / 10} MiB`;
  const what = toolName ? `tools/call ${toolName}` : method ?? 'a message';
  const text =
    `EFBIG: request of more than ${mib(MAX_MESSAGE_BYTES)} refused (${what}): one message may carry at most ${mib(MAX_MESSAGE_BYTES)}` +
    (toolName === 'write_file' || toolName === 'append_file' ? '; write big content in parts (write_file, then append_file)' : '');
  if (idText === undefined) return { what: `${what}, ${bytes} bytes` };
  let id: string | number;
  try {
    id = JSON.parse(idText) as string | number;
  } catch {
    return { what: `${what}, ${bytes} bytes` };
  }
  const reply: JSONRPCMessage =
    method === 'tools/call'
      ? { jsonrpc: '2.0', id, result: { content: [{ type: 'text', text }], isError: true } }
      : { jsonrpc: '2.0', id, error: { code: -32600, message: text } };
  return { reply, what: `${what}, ${bytes} bytes` };
}

/** Collects the ends of a message too big to keep. */
export class Ends {
  private head = Buffer.alloc(0);
  private tail = Buffer.alloc(0);
  bytes = 0;
  add(b: Buffer): void {
    this.bytes += b.length;
    if (this.head.length < KEEP) this.head = Buffer.concat([this.head, b.subarray(0, KEEP - this.head.length)]);
    this.tail = Buffer.concat([this.tail, b.length > KEEP ? b.subarray(b.length - KEEP) : b]);
    if (this.tail.length > KEEP) this.tail = this.tail.subarray(this.tail.length - KEEP);
  }
  reply(): ReturnType<typeof oversizeReply> {
    return oversizeReply(this.head.toString('utf8'), this.tail.toString('utf8'), this.bytes);
  }
}
