/**
 * Text read from Redis (queue names, server INFO) made safe to print on a terminal.
 * Names are not validated everywhere they can be written (old data, other clients), and a
 * name holding `ESC [2K` or `\r` could erase or forge lines of our output: C0 and C1
 * controls, DEL, and the bidirectional overrides (which reorder what follows them) are
 * shown as `\xNN` / `\uNNNN` instead.
 */
const REORDERING = '\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069';
const UNSAFE = new RegExp(`[\x00-\x1f\x7f-\x9f${REORDERING}]`, 'g');
/** What JSON.stringify leaves raw (it escapes C0 controls itself; its own newlines are layout). */
const UNSAFE_IN_JSON = new RegExp(`[\x7f-\x9f${REORDERING}]`, 'g');

const escapeChar = (c: string): string => {
  const code = c.charCodeAt(0);
  return code <= 0xff
    ? `\\x${code.toString(16).padStart(2, '0')}`
    : `\\u${code.toString(16).padStart(4, '0')}`;
};

export function printable(text: string): string {
  return text.replace(UNSAFE, escapeChar);
}

/**
 * JSON for a terminal: JSON.stringify leaves C1 controls and the bidi marks raw inside
 * strings; as `\uNNNN` escapes the document parses to the same values.
 */
export function printableJson(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(
    UNSAFE_IN_JSON,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
