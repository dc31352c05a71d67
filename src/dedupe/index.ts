export { Deduper, type DeduperOptions, MAX_DEDUPE_KEY_BYTES } from './deduper.js';
