import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseTrackBody, trackEventsJson } from '../../src/server/track-schema.js';
import { ValidationError } from '../../src/util/errors.js';
import { SESSION, seedEvent } from './helpers.js';

test('trackEventsJson is JSON.stringify of parseTrackBody, the request session_id winning', () => {
  const body = {
    session_id: SESSION,
    events: [
      seedEvent(0),
      seedEvent(1, { session_id: 'from-the-event', extra: { nested: [1, 'two', null] }, quote: 'a"b\\n' }),
      seedEvent(2, { n: 1.5 }),
    ],
  };
  // A parsed "__proto__" key is an own property: it must be stored as data, like any other field.
  const parsed = JSON.parse(JSON.stringify(body).replace('"n":1.5', '"n":1.5,"__proto__":{"polluted":true}'));
  const json = trackEventsJson(parsed, 10);
  assert.deepEqual(
    json,
    parseTrackBody(parsed, 10).map((e) => JSON.stringify(e)),
  );
  assert.deepEqual(
    json.map((j) => JSON.parse(j).session_id),
    [SESSION, SESSION, SESSION],
  );
  assert.equal(JSON.parse(json[1]!).extra.nested[1], 'two');
  assert.match(json[2]!, /"__proto__":\{"polluted":true\}/);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

test('trackEventsJson validates like parseTrackBody', () => {
  assert.throws(() => trackEventsJson({ session_id: SESSION, events: [seedEvent(0, { page_url: 3 })] }, 10), {
    name: 'ValidationError',
    field: 'events[0].page_url',
  } as object);
  assert.throws(
    () => trackEventsJson({ session_id: SESSION, events: [seedEvent(0), seedEvent(1)] }, 1),
    ValidationError,
  );
});
