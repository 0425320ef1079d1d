// Reading the live stream's frames (live.js `readFrames`) from bytes as the network delivers them: in pieces.
import { readFrames } from '../../../web/js/live.js';
import { same } from './assert.js';

/** The frames `readFrames` finds in a body that arrives as `chunks`. */
async function framesOf(...chunks) {
  const encoder = new TextEncoder();
  const body = new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
      controller.close();
    },
  });
  const frames = [];
  await readFrames(body, (frame) => frames.push(frame));
  return frames;
}

export const tests = {
  async 'a frame is its id, its event and its data'() {
    same(await framesOf('id: 7\nevent: booking.accepted\ndata: {"id":"b1"}\n\n'),
      [{ id: '7', event: 'booking.accepted', data: '{"id":"b1"}' }]);
  },
  async 'a frame split anywhere across chunks is read whole'() {
    same(await framesOf('id: 7\nev', 'ent: booking.acc', 'epted\ndata: {"id"', ':"b1"}\n', '\n'),
      [{ id: '7', event: 'booking.accepted', data: '{"id":"b1"}' }]);
  },
  async 'several data lines are one text, and a frame without an event is a message'() {
    same(await framesOf('data: one\ndata: two\n\n'), [{ id: null, event: 'message', data: 'one\ntwo' }]);
  },
  async 'keep-alive comments and the retry line make no frame'() {
    same(await framesOf(': keep-alive\n\n', 'retry: 3000\n\n', 'data: x\n\n'), [{ id: null, event: 'message', data: 'x' }]);
  },
  async 'lines may end in CR LF or CR, even with the CR LF split between two chunks'() {
    same(await framesOf('id: 1\r\ndata: a\r\n\r\n', 'id: 2\rdata: b\r\r', 'id: 3\r', '\ndata: c\r', '\n\r\n'), [
      { id: '1', event: 'message', data: 'a' },
      { id: '2', event: 'message', data: 'b' },
      { id: '3', event: 'message', data: 'c' },
    ]);
  },
  async 'a frame the stream ends in the middle of is not delivered'() {
    same(await framesOf('data: whole\n\n', 'data: cut'), [{ id: null, event: 'message', data: 'whole' }]);
  },
};
