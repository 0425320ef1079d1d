// How the page writes a query and reads the API's refusals (api.js).
import { fieldErrors, messageOf, qs } from '../../../web/js/api.js';
import { equal, same } from './assert.js';

export const tests = {
  'a query string leaves out empty values and repeats a list\'s key'() {
    equal(qs({ a: 1, b: '', c: null, d: undefined, e: ['x', 'y'], f: 0 }), '?a=1&e=x&e=y&f=0');
    equal(qs({}), '');
    equal(qs({ q: 'a b&c' }), '?q=a+b%26c');
  },
  'a refused field is named in words under its own name, lists and nesting left out'() {
    const body = { errors: { json: { end_time: ['Must be after start.'], windows: { 0: { start: ['Not a time.'] } } } } };
    same(fieldErrors(body), [
      { path: ['end_time'], name: 'end_time', text: 'End time: Must be after start.' },
      { path: ['windows', '0', 'start'], name: 'start', text: 'Start: Not a time.' },
    ]);
  },
  'a message that starts with its field\'s name is not named twice'() {
    same(fieldErrors({ errors: { query: { limit: 'limit must be at most 100' } } }).map((f) => f.text),
      ['Limit must be at most 100']);
  },
  'the schema\'s own errors belong to no field, and a domain error\'s details are not fields'() {
    same(fieldErrors({ errors: { json: { _schema: ['Times overlap.'] } } }),
      [{ path: [], name: '', text: 'Times overlap.' }]);
    same(fieldErrors({ errors: { details: { slot: 'taken' } }, message: 'conflict' }), []);
    same(fieldErrors(null), []);
  },
  'the API\'s words for a failure: its fields once each, else its message as a sentence'() {
    const twice = { errors: { json: { a: ['Required.'], b: { a: ['Required.'] } } } };
    equal(messageOf(twice, 422), 'A: Required.');
    equal(messageOf({ message: 'the slot is taken' }, 409), 'The slot is taken');
    equal(messageOf('Bad Gateway', 502), 'The request failed (HTTP 502).');
  },
};
