// Copies Lua scripts next to the compiled JavaScript: tsc only emits .js.
import { cpSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function copy(dir) {
  for (const name of readdirSync(dir)) {
    const from = join(dir, name);
    if (statSync(from).isDirectory()) copy(from);
    else if (name.endsWith('.lua')) cpSync(from, from.replace(/^src/, 'dist'));
  }
}
copy('src');
