// A worker thread that starts one native async operation (or a reader) and keeps it busy until
// the test terminates it, or until it calls process.exit() itself after `exitAfterMs`.
// workerData: { dist, fixtures, op, exitAfterMs?, exitOnceStarted?, iface?: { name, netns }, lockPath? }
'use strict';
const { workerData, parentPort } = require('node:worker_threads');
const { join } = require('node:path');
const lib = require(join(workerData.dist, 'lib', 'index.js'));
const { binding } = require(join(workerData.dist, 'lib', 'internal', 'native.js'));

const fixture = (name) => join(workerData.fixtures, `${name}.bpf.o`);
const packet = Buffer.alloc(64);

async function main() {
  switch (workerData.op) {
    case 'load': {
      // The verifier walks ~600,000 instructions: the load is in flight for a while.
      const obj = lib.BpfObject.open(fixture('slow_verify'));
      const p = obj.load();
      parentPort.postMessage('started');
      await p.catch(() => {});
      break;
    }
    case 'testRunAsync': {
      const obj = lib.BpfObject.open(fixture('ringbuf'));
      obj.loadSync();
      const prog = obj.program('xdp_ringbuf');
      parentPort.postMessage('started');
      for (;;) await prog.testRunAsync({ data: packet, repeat: 200_000 }).catch(() => {});
    }
    case 'ringbuf':
    case 'perfbuf': {
      const obj = lib.BpfObject.open(fixture('ringbuf'));
      obj.loadSync();
      const reader = workerData.op === 'ringbuf' ? obj.ringbuf('events') : obj.perfbuf('perf_events', { pagesPerCpu: 4 });
      const prog = obj.program(workerData.op === 'ringbuf' ? 'xdp_ringbuf' : 'xdp_perf');
      const feed = setInterval(() => prog.testRun({ data: packet, repeat: 500 }), 1);
      parentPort.postMessage('started');
      let n = 0;
      for await (const _ of reader) n++;
      clearInterval(feed);
      break;
    }
    case 'capture': {
      const sock = new binding.NativePacketSocket(workerData.iface);
      parentPort.postMessage('started');
      for (;;) await sock.receive(200, 100_000).catch(() => {});
    }
    case 'send': {
      const sock = new binding.NativePacketSocket(workerData.iface);
      const frame = Buffer.alloc(60, 0xff); // broadcast, stays on the veth pair
      parentPort.postMessage('started');
      for (;;) await sock.send([frame], 100_000, 200).catch(() => {});
    }
    case 'iterLines':
    case 'iterStream': {
      // Reads an iterator slowly, over and over: the worker ends with a read open.
      const obj = lib.BpfObject.open(fixture('attach_iter'));
      obj.loadSync();
      const prog = obj.program('dump_task');
      const it = lib.attachIter(prog);
      parentPort.postMessage({ progId: prog.id });
      parentPort.postMessage('started');
      const pause = () => new Promise((r) => setTimeout(r, 1));
      for (;;) {
        if (workerData.op === 'iterLines') {
          for await (const _ of it.lines()) await pause();
        } else {
          const s = it.stream();
          s.pause();
          await pause();
        }
      }
    }
    case 'lock': {
      // Holds a flock until the worker ends; its end must release it.
      const fd = binding.tryLock(workerData.lockPath);
      parentPort.postMessage(fd >= 0 ? 'started' : 'error: lock busy');
      setInterval(() => {}, 1000);
      break;
    }
    case 'leaveOpen': {
      // One handle of every root kind of the owner graph (native/README.md), none closed: the
      // worker's end must close them all. Program ids are reported so the test can see them go.
      const obj = lib.BpfObject.open(fixture('maps'));
      obj.loadSync();
      const view = obj.map('mmapped').mmap(); // a map's memory view, a child of an object's map
      view[0] = 1n;
      const standalone = lib.BpfMap.create({ type: 'hash', keySize: 4, valueSize: 4, maxEntries: 8 });
      standalone.set(Buffer.alloc(4), Buffer.alloc(4));
      const iterObj = lib.BpfObject.open(fixture('attach_iter'));
      iterObj.loadSync();
      const iterProg = iterObj.program('dump_task');
      const reopened = lib.BpfProgram.openById(iterProg.id); // a standalone program
      const it = lib.attachIter(iterProg); // a link
      const lines = it.lines()[Symbol.asyncIterator]();
      await lines.next(); // an iterator read, left open mid-way
      const rbObj = lib.BpfObject.open(fixture('ringbuf'));
      rbObj.loadSync();
      const reader = rbObj.ringbuf('events'); // a reader (its own dup of the map fd)
      const stats = lib.enableRunStats(); // a statistics request: a plain fd of the registry
      const lock = workerData.lockPath !== undefined ? binding.tryLock(workerData.lockPath) : -1;
      parentPort.postMessage({ progIds: [iterProg.id, reopened.id, ...rbObj.programs.map((p) => p.id)] });
      parentPort.postMessage(lock >= 0 || workerData.lockPath === undefined ? 'started' : 'error: lock busy');
      globalThis.keep = [obj, view, standalone, reopened, it, lines, reader, stats];
      if (workerData.exitOnceStarted) setTimeout(() => process.exit(0), 5);
      else setInterval(() => {}, 1000);
      break;
    }
    default:
      throw new Error(`unknown op ${workerData.op}`);
  }
}

if (workerData.exitAfterMs !== undefined) setTimeout(() => process.exit(0), workerData.exitAfterMs);
main().catch((e) => parentPort.postMessage(`error: ${e && e.stack}`));
