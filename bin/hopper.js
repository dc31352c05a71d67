#!/usr/bin/env node
// The `hopper` command. An installed package runs the compiled CLI from dist/;
// a repository checkout without a build runs the TypeScript source through tsx,
// so `npm start` works without a build step. Run `npm run build` again after
// changing src/ once dist/ exists: dist/ wins when present.
import { existsSync } from 'node:fs';

const compiled = new URL('../dist/cli/index.js', import.meta.url);

if (existsSync(compiled)) {
  await import(compiled.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(new URL('../src/cli/index.ts', import.meta.url).href);
}
