// Error messages from native libraries can span lines; ours are one line.
export function oneLine(message: string): string {
  return message.replace(/\s+/g, ' ').trim();
}
