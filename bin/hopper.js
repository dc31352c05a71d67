#!/usr/bin/env node
// The `hopper` command. An installed package runs the compiled CLI from dist/ (the
// package ships no src/). A repository checkout runs the TypeScript source through tsx
// (a devDependency), so `npm start` works without a build and never runs a stale dist/.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

// `hopper demo` stops gracefully at any moment: a Ctrl-C while the CLI is still loading is
// kept for it (src/cli/demo-stop.ts) instead of killing the process half-started.
if (process.argv[2] === 'demo') {
  const early = { signals: [], handler: (signal) => early.signals.push(signal) };
  process[Symbol.for('hopper.demo.earlySignals')] = early;
  process.on('SIGINT', early.handler);
  process.on('SIGTERM', early.handler);
  // Named in ps and top; set only once the signals are held, which tests rely on.
  process.title = 'hopper demo';
}

const source = new URL('../src/cli/index.ts', import.meta.url);
const compiled = new URL('../dist/cli/index.js', import.meta.url);

function hasTsx() {
  try {
    createRequire(import.meta.url).resolve('tsx/esm/api');
    return true;
  } catch {
    return false;
  }
}

if (existsSync(source) && (hasTsx() || !existsSync(compiled))) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(source.href);
} else {
  await import(compiled.href);
}
