import { createRequire } from 'node:module';
import { HopperError } from './errors.js';

/**
 * A feature needs a package that is an optional peer dependency of Hopper (Fastify for the
 * server, prom-client for Prometheus, pg or PGlite for the PostgreSQL sink) and it is not
 * installed. The message names the package and the command that installs it.
 */
export class MissingDependencyError extends HopperError {
  override name = 'MissingDependencyError';
  constructor(
    readonly packageName: string,
    readonly feature: string,
  ) {
    super(
      `${feature} needs the package "${packageName}", which is not installed: npm install ${packageName}`,
    );
  }
}

// Resolved from this file, as an import in Hopper's own code would be.
const requireHere = createRequire(import.meta.url);

function isMissing(err: unknown, packageName: string): boolean {
  const e = err as { code?: string; message?: string };
  return (
    (e?.code === 'MODULE_NOT_FOUND' || e?.code === 'ERR_MODULE_NOT_FOUND') &&
    // Only the package itself: a broken install of one of its own dependencies is another error.
    (e.message?.includes(`'${packageName}'`) || e.message?.includes(`"${packageName}"`)) === true
  );
}

/** Loads an optional CommonJS package at the moment a feature needs it, with a clear error if absent. */
export function requireOptional<T>(packageName: string, feature: string): T {
  try {
    return requireHere(packageName) as T;
  } catch (err) {
    if (isMissing(err, packageName)) throw new MissingDependencyError(packageName, feature);
    throw err;
  }
}

/** The same for an optional package loaded with import(); `load` is `() => import('<name>')`. */
export async function importOptional<T>(
  packageName: string,
  feature: string,
  load: () => Promise<T>,
): Promise<T> {
  try {
    return await load();
  } catch (err) {
    if (isMissing(err, packageName)) throw new MissingDependencyError(packageName, feature);
    throw err;
  }
}
