// In a kernel matrix guest: compares what the feature probes answer (features.list(), from the
// compiled dist/) with the feature set recorded for this Debian kernel in expected/<name>.json,
// and fails the guest when they disagree. This is where "this kernel must have that feature" is
// checked: the test suite itself only skips by the probe's answer (test/support/kernel.ts).
//
//   node test/kernels/expect-features.cjs <name>      e.g. bookworm, bookworm-lockdown
//
// A file lists the features the kernel must lack ("unavailable") and, for restricted guests, those
// whose probe the kernel refuses ("undetermined"); every other feature must be available. Prints
// KMATRIX-EXPECT lines; exits 1 on a mismatch, 0 when they agree or no file is recorded.
'use strict';
const { existsSync, readFileSync } = require('node:fs');
const { join } = require('node:path');

const name = process.argv[2];
if (!name || !/^[a-z0-9-]+$/.test(name)) {
  console.error('usage: expect-features.cjs <suite>[-lockdown]');
  process.exit(2);
}
const { features, FEATURES } = require(join(__dirname, '..', '..', 'dist', 'lib', 'features.js'));
const file = join(__dirname, 'expected', `${name}.json`);
if (!existsSync(file)) {
  console.log(`KMATRIX-EXPECT none: no test/kernels/expected/${name}.json recorded for this kernel`);
  process.exit(0);
}
const expected = JSON.parse(readFileSync(file, 'utf8'));
const unavailable = expected.unavailable ?? [];
const undetermined = expected.undetermined ?? [];
const wrong = [];
for (const n of [...unavailable, ...undetermined]) {
  if (!(n in FEATURES)) wrong.push(`${n}: recorded in ${name}.json but no such feature`);
}
for (const f of features.list()) {
  const want = unavailable.includes(f.name) ? 'unavailable' : undetermined.includes(f.name) ? 'undetermined' : 'available';
  if (f.state !== want) wrong.push(`${f.name}: recorded as ${want}, the probe says ${f.state} (${f.reason})`);
}
for (const w of wrong) console.log(`KMATRIX-EXPECT-WRONG ${w}`);
console.log(wrong.length === 0 ? `KMATRIX-EXPECT ok (${name})` : `KMATRIX-EXPECT MISMATCH ${wrong.length} (${name})`);
process.exit(wrong.length === 0 ? 0 : 1);
