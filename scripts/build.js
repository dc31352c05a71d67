// Builds the published package into dist/ (or the folder given as the first argument):
//   *.js     ESM, one file per source file (esbuild: the same transform tsx applies in tests)
//   *.cjs    CommonJS twins for require() on Node 20, which cannot require ESM
//   *.d.ts   declarations (tsc), *.d.cts their CommonJS twins
//   *.lua    the Redis scripts, once, beside both (the loaders read them from their own folder)
// No source maps: the output is unminified, one file per source file, and maps pointing
// at sources the package does not ship would be broken links.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const src = join(root, 'src');
const out = resolve(process.argv[2] ?? join(root, 'dist'));
const require = createRequire(import.meta.url);

function walk(dir, keep) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path, keep) : keep(path) ? [path] : [];
  });
}

const sources = walk(src, (p) => p.endsWith('.ts') && !p.endsWith('.d.ts'));
// The CLI is ESM only (top-level await; bin/hopper.js imports it).
const library = sources.filter((p) => !relative(src, p).startsWith('cli'));

rmSync(out, { recursive: true, force: true });

const common = { outbase: src, outdir: out, platform: 'node', target: 'node20', logLevel: 'warning' };

await build({ ...common, entryPoints: sources, format: 'esm' });

// CommonJS: every import stays external; relative ones point at the .cjs twin.
const cjsSpecifiers = {
  name: 'cjs-specifiers',
  setup(b) {
    b.onResolve({ filter: /.*/ }, (args) => {
      if (args.kind === 'entry-point') return undefined;
      if (args.path.startsWith('.')) return { path: args.path.replace(/\.js$/, '.cjs'), external: true };
      return { path: args.path, external: true };
    });
  },
};
await build({
  ...common,
  entryPoints: library,
  format: 'cjs',
  bundle: true,
  outExtension: { '.js': '.cjs' },
  plugins: [cjsSpecifiers],
  // import.meta.url locates the Lua scripts and package.json: the .cjs file's own URL.
  define: { 'import.meta.url': '__hopperModuleUrl' },
  banner: { js: 'var __hopperModuleUrl = require("node:url").pathToFileURL(__filename).href;' },
  // Optional peers stay import(): an ESM-only one still loads from CommonJS.
  supported: { 'dynamic-import': true },
});

// Declarations: tsc, then .d.cts twins whose relative imports name the .cjs files.
execFileSync(
  process.execPath,
  [
    require.resolve('typescript/bin/tsc'),
    '-p',
    join(root, 'tsconfig.build.json'),
    '--outDir',
    out,
    '--noCheck',
  ],
  { stdio: 'inherit', cwd: root },
);
for (const dts of walk(out, (p) => p.endsWith('.d.ts'))) {
  const text = readFileSync(dts, 'utf8').replace(
    /((?:from|import)\s*\(?\s*['"])(\.{1,2}\/[^'"]*)\.js(['"])/g,
    (_m, head, path, tail) => `${head}${path}.cjs${tail}`,
  );
  writeFileSync(dts.replace(/\.d\.ts$/, '.d.cts'), text);
}

for (const lua of walk(src, (p) => p.endsWith('.lua'))) {
  const to = join(out, relative(src, lua));
  mkdirSync(dirname(to), { recursive: true });
  cpSync(lua, to);
}
console.log(
  `built ${relative(root, out) || out}: ${sources.length} modules (ESM), ${library.length} (CommonJS)`,
);
