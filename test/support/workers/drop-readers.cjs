// A process that drops 50 ring buffers and 50 perf buffers without close(), collects them, and
// reports its fd counts; it must then exit on its own (nothing of ours keeps the loop alive).
// argv: dist, fixtures
'use strict';
const { readdirSync } = require('node:fs');
const { join } = require('node:path');
const lib = require(join(process.argv[2], 'lib', 'index.js'));

const fds = () => readdirSync('/proc/self/fd').length;
const start = fds();
const obj = lib.BpfObject.open(join(process.argv[3], 'ringbuf.bpf.o'));
obj.loadSync();
const before = fds();
(function drop() {
  for (let i = 0; i < 50; i++) {
    obj.ringbuf('events');
    obj.perfbuf('perf_events', { pagesPerCpu: 1 });
  }
})();
const held = fds();
obj.close();
// Finalizers run after GC, from the event loop; give them a few turns.
let turns = 0;
const settle = () => {
  global.gc();
  if (fds() > start && turns++ < 50) return setTimeout(settle, 20);
  console.log(JSON.stringify({ start, before, held, after: fds() }));
};
settle();
