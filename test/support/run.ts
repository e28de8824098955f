// Runs a loaded program with BPF_PROG_TEST_RUN, so tests can make programs update maps and
// emit records on demand.
import type { BpfProgram } from '../../lib/index';

/** A 64-byte Ethernet-sized packet of zeros: enough for XDP test runs. */
const packet = Buffer.alloc(64);

/** Runs `prog` `repeat` times on a dummy packet; returns the program's last return value. */
export function testRun(prog: BpfProgram, repeat = 1): number {
  return prog.testRun({ data: packet, repeat }).retval;
}
