// Drive the real `avfs mcp` (bin/avfs in a child process) with the MCP SDK's own Client, over
// stdio and over streamable HTTP, as an agent's host program does.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { AVFS_BIN } from './cli.js';

function childEnv(home: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && k !== 'AVFS_DEBUG' && k !== 'AVFS_ACTOR') env[k] = v;
  env.AVFS_HOME = home;
  return env;
}

export interface StdioServed {
  client: Client;
  /** Everything the server wrote on stderr so far. */
  stderr(): string;
  close(): Promise<void>;
}

/** `avfs mcp ARGS` over stdio, connected as client `name`. */
export async function startStdio(home: string, args: string[], name = 'test-client'): Promise<StdioServed> {
  const transport = new StdioClientTransport({ command: process.execPath, args: [AVFS_BIN, 'mcp', ...args], env: childEnv(home), stderr: 'pipe' });
  let err = '';
  transport.stderr?.on('data', (c: Buffer) => (err += c.toString('utf8')));
  const client = new Client({ name, version: '1.0.0' });
  await client.connect(transport);
  return { client, stderr: () => err, close: () => client.close() };
}

export interface HttpServed {
  url: URL;
  child: ChildProcess;
  stderr(): string;
  /** SIGTERM, then wait for the exit; resolves to the exit code. */
  stop(): Promise<number | null>;
}

/** `avfs mcp --http 0 ARGS` in a child process; resolves once it says where it listens. */
export function startHttp(home: string, args: string[] = []): Promise<HttpServed> {
  const child = spawn(process.execPath, [AVFS_BIN, 'mcp', '--http', '0', ...args], { env: childEnv(home), stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString('utf8')));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`avfs mcp --http did not say where it listens: ${err}`)), 15_000);
    child.stderr!.on('data', (c: Buffer) => {
      err += c.toString('utf8');
      const m = /listening on (http:\/\/\S+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve({
          url: new URL(m[1]),
          child,
          stderr: () => err,
          stop: () =>
            new Promise((done) => {
              if (child.exitCode !== null) return done(child.exitCode);
              child.once('exit', (code) => {
                assert.equal(out, '', 'nothing on stdout with --http');
                done(code);
              });
              child.kill('SIGTERM');
            }),
        });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`avfs mcp --http exited (${code}): ${err}`));
    });
  });
}

export async function httpClient(url: URL, name = 'http-client'): Promise<Client> {
  const client = new Client({ name, version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(url));
  return client;
}

export async function call(client: Client, name: string, args: Record<string, unknown> = {}): Promise<CallToolResult> {
  return (await client.callTool({ name, arguments: args })) as CallToolResult;
}

export function textOf(r: CallToolResult): string {
  return r.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');
}

/** A successful call: its structuredContent. */
export async function ok<T = Record<string, unknown>>(client: Client, name: string, args: Record<string, unknown> = {}): Promise<T> {
  const r = await call(client, name, args);
  assert.ok(!r.isError, `${name} ${JSON.stringify(args).slice(0, 200)} failed: ${textOf(r)}`);
  assert.ok(r.structuredContent, `${name}: structuredContent`);
  assert.ok(textOf(r).length > 0, `${name}: text content`);
  return r.structuredContent as T;
}

/** A tool error: one line "CODE: explanation"; returns that line. */
export async function fails(client: Client, name: string, args: Record<string, unknown>, code: string, match?: RegExp): Promise<string> {
  const r = await call(client, name, args);
  const text = textOf(r);
  assert.equal(r.isError, true, `${name} ${JSON.stringify(args).slice(0, 200)} should fail with ${code}, got: ${text.slice(0, 300)}`);
  assert.equal(r.content.length, 1, 'one content block');
  assert.ok(!text.includes('\n'), `one line: ${JSON.stringify(text)}`);
  assert.match(text, new RegExp(`^${code}: \\S`), `code ${code}: ${text}`);
  assert.doesNotMatch(text, /\n\s+at /, 'no stack');
  if (match) assert.match(text, match);
  return text;
}
