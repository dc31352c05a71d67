import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The page's files: from src/console/public (the same path from src/console and dist/console). */
const PUBLIC = fileURLToPath(new URL('../../src/console/public/', import.meta.url));
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

export interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

function asset(body: Buffer, name: string): Asset {
  const ext = name.slice(name.lastIndexOf('.'));
  return {
    body,
    type: TYPES[ext] ?? 'application/octet-stream',
    etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 16)}"`,
  };
}

/**
 * Every file the page needs, read once at start: the app's own files and the two
 * libraries it imports (Preact and htm, served from node_modules: no CDN, no build step).
 */
export function loadAssets(): Map<string, Asset> {
  const out = new Map<string, Asset>();
  const walk = (dir: string, rel: string) => {
    for (const f of readdirSync(dir)) {
      const full = join(dir, f);
      if (statSync(full).isDirectory()) walk(full, `${rel}${f}/`);
      else out.set(`${rel}${f}`, asset(readFileSync(full), f));
    }
  };
  walk(PUBLIC, '');
  const require = createRequire(import.meta.url);
  out.set('vendor/preact.mjs', asset(readFileSync(require.resolve('preact')), 'preact.mjs'));
  out.set('vendor/htm.mjs', asset(readFileSync(join(require.resolve('htm'), '../htm.module.js')), 'htm.mjs'));
  return out;
}

/** Strict by default: scripts and styles from this origin only, no inline script, no framing. */
export const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
