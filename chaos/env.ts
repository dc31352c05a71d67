/** Reading a child process's settings from its environment; a missing one ends it with code 2. */
export function required(name: string): string {
  const v = process.env[name];
  if (!v) {
    console.error(`chaos child: env ${name} is required`);
    process.exit(2);
  }
  return v;
}

export function num(name: string): number {
  const n = Number(required(name));
  if (!Number.isFinite(n)) {
    console.error(`chaos child: env ${name} must be a number`);
    process.exit(2);
  }
  return n;
}
