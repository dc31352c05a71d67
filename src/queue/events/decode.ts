import { SEP } from '../record.js';
import { QUEUE_EVENT_NAMES, type QueueEventName } from './types.js';

/** One stream entry (events.lua): an event, the ids of its jobs, and a progress value. */
export interface EventEntry {
  event: QueueEventName;
  ids: string[];
  /** Raw JSON of a progress value. */
  data: string | undefined;
}

const KNOWN = new Set<string>(QUEUE_EVENT_NAMES);

/** Decodes an entry's fields; undefined for an entry of an event this version does not know. */
export function decodeEntry(fields: string[]): EventEntry | undefined {
  let event: string | undefined;
  let ids = '';
  let data: string | undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const value = fields[i + 1]!;
    switch (fields[i]) {
      case 'e':
        event = value;
        break;
      case 'i':
        ids = value;
        break;
      case 'd':
        data = value;
        break;
    }
  }
  if (event === undefined || !KNOWN.has(event)) return undefined;
  return { event: event as QueueEventName, ids: ids === '' ? [] : ids.split(SEP), data };
}
