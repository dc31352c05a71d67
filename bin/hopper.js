#!/usr/bin/env node
// The `hopper` command. An installed package runs the compiled CLI from dist/;
// a repository checkout without a build runs the TypeScript source through tsx,
// so `npm start` works without a build step. Run `npm run build` again after
// changing src/ once dist/ exists: dist/ wins when present.
import { existsSync } from 'node:fs';

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

const compiled = new URL('../dist/cli/index.js', import.meta.url);

if (existsSync(compiled)) {
  await import(compiled.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(new URL('../src/cli/index.ts', import.meta.url).href);
}
