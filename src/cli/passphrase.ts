// The passphrase of an encrypted vault: $AVFS_PASSPHRASE, else asked for on the terminal without
// echo, else a one-line error (a script or an agent must set the variable).
import { isVfsError, vfsError } from '../errors.js';
import type { Context } from './context.js';

/** Read one line from the terminal without echoing it. */
function promptHidden(prompt: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    process.stderr.write(prompt);
    stdin.setRawMode(true);
    stdin.resume();
    let text = '';
    const done = (err?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(text);
    };
    const onData = (d: Buffer) => {
      for (const ch of d.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003' || ch === '\u0004') return done(vfsError('EPASSPHRASE', undefined, 'no passphrase entered'));
        if (ch === '\u007f' || ch === '\b') text = text.slice(0, -1);
        else text += ch;
      }
    };
    stdin.on('data', onData);
  });
}

/** $AVFS_PASSPHRASE, or the terminal's answer; EPASSPHRASE when neither can be had. */
export async function passphraseFor(ctx: Context, prompt = 'passphrase: '): Promise<string> {
  const p = ctx.env.AVFS_PASSPHRASE;
  if (p !== undefined && p !== '') return p;
  if (!ctx.stdinIsTTY || !process.stdin.isTTY) {
    throw vfsError('EPASSPHRASE', undefined, 'a passphrase is needed: set AVFS_PASSPHRASE (stdin is not a terminal to ask on)');
  }
  const answer = await promptHidden(prompt);
  if (answer === '') throw vfsError('EPASSPHRASE', undefined, 'no passphrase entered');
  return answer;
}

/**
 * Open with $AVFS_PASSPHRASE when set; if the vault turns out to be encrypted and none was set,
 * ask on the terminal and try once more.
 */
export async function withPassphrase<T>(ctx: Context, open: (passphrase: string | undefined) => Promise<T>): Promise<T> {
  const set = ctx.env.AVFS_PASSPHRASE;
  try {
    return await open(set === '' ? undefined : set);
  } catch (e) {
    if (!isVfsError(e) || e.code !== 'EPASSPHRASE' || (set !== undefined && set !== '') || !ctx.stdinIsTTY || !process.stdin.isTTY) throw e;
    return open(await passphraseFor(ctx));
  }
}
