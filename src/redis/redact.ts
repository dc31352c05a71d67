/**
 * Secrets never reach logs or thrown errors. ioredis errors may carry the AUTH
 * command and its arguments (`command.args`), and URLs carry passwords.
 */
export function redactUrl(url: string): string {
  return url.replace(/^(\w+:\/\/)([^@/]*)@/, (_m, scheme: string, cred: string) => {
    const user = cred.includes(':') ? cred.slice(0, cred.indexOf(':')) : '';
    return `${scheme}${user ? `${user}:` : ''}***@`;
  });
}

/** A copy of `err` without command arguments and with any URL credentials masked. */
export function redactError(err: unknown, secrets: string[] = []): Error {
  const source = err instanceof Error ? err : new Error(String(err));
  let message = redactUrl(source.message);
  for (const s of secrets) if (s) message = message.split(s).join('***');
  const clean = new Error(message);
  clean.name = source.name;
  if (source.stack) {
    let stack = redactUrl(source.stack);
    for (const s of secrets) if (s) stack = stack.split(s).join('***');
    clean.stack = stack;
  }
  return clean;
}
