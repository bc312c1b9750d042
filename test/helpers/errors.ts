// The error code a library call fails with ('no error' if it succeeds), checking on the way
// that the message is one line (the promise every interface makes).
import assert from 'node:assert/strict';

export async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    const err = e as { code?: string; message?: string };
    assert.ok(!String(err.message).includes('\n'), `one-line message: ${err.message}`);
    return err.code ?? String(e);
  }
  return 'no error';
}
