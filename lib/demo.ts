/**
 * The package's demo (`npm run demo`): loads each shipped BPF object into the kernel and prints
 * what it loaded, then closes everything. Exits non-zero when anything fails.
 *
 * @internal
 * @module
 */
import { BpfObject } from './object';
import { shippedObjectPath, shippedObjects } from './shipped';
import { libbpfVersion } from './log';

function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()).join('\n');
}

async function main(): Promise<void> {
  console.log(`libbpf-node demo, libbpf ${libbpfVersion()}, kernel ${require('node:os').release()}\n`);
  for (const name of shippedObjects) {
    using obj = BpfObject.open(shippedObjectPath(name));
    const started = process.hrtime.bigint();
    await obj.load();
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    console.log(`${name}.bpf.o: loaded in ${ms.toFixed(1)} ms`);
    const progs = [['program', 'type', 'section', 'id', 'tag', 'insns'], ...obj.programs.map((p) => [p.name, p.type, p.section, String(p.id), p.tag, String(p.instructions)])];
    console.log(table(progs).replace(/^/gm, '  '));
    if (obj.maps.length > 0) {
      const maps = [['map', 'type', 'key', 'value', 'entries', 'id'], ...obj.maps.map((m) => [m.name, m.type, String(m.keySize), String(m.valueSize), String(m.maxEntries), String(m.id)])];
      console.log(table(maps).replace(/^/gm, '  '));
    }
    const globals = obj.globals.names();
    if (globals.length > 0) {
      console.log('  globals: ' + globals.map((g) => `${g.declaration} = ${String(obj.globals.get(g.name))} (${g.section})`).join(', '));
    }
    console.log('');
  }
  console.log('all objects loaded and closed');
}

main().catch((e: unknown) => {
  console.error(`demo failed: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
