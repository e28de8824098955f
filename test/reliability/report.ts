/**
 * `npm run reliability`: runs every reliability scenario with production-sized counts and prints
 * one table. Options: --quick (the CI sizes), --json. Exit code 1 when a target is missed.
 */
import { fuzz } from './fuzz';
import { concurrency, killPoints, privileges, soak, upgrade } from './scenarios';

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const rows: Array<[string, string, boolean]> = [];
  const t0 = Date.now();
  const f = await fuzz({ iterations: quick ? 2000 : 40_000, seconds: quick ? 15 : 240, seed: Date.now() % 100_000 });
  rows.push(['fuzz', `${f.iterations} iterations (${f.elfInputs} ELF, ${f.frameInputs} frames), ${Object.keys(f.errorCodes).length} distinct outcomes, ${f.crashes.length} crashes, ${f.hangs.length} hangs (kernel busy > 10 s, killed), ${f.untyped.length} untyped errors`, f.crashes.length === 0 && f.untyped.length === 0]);
  const s = await soak({ cycles: quick ? 500 : 20_000 });
  rows.push(['soak', `${s.operations} operations: leaked ${s.leakedFds} fds, ${s.leakedPins} pins, XDP left ${s.xdpLeft ? 'yes' : 'no'}, RSS ${s.rssBeforeMiB} -> ${s.rssAfterMiB} MiB (tolerance 32), ${s.gcReleasedFds} fds released by finalizers`, s.leakedFds === 0 && s.leakedPins === 0 && !s.xdpLeft && s.rssGrowthMiB < 32]);
  const p = await privileges();
  rows.push(['privileges', `${p.tried} cases without CAP_BPF/NET_ADMIN/SYS_ADMIN/PERFMON or with bad pin paths, ${p.clean} failed cleanly`, p.tried === p.clean]);
  const k = await killPoints({ kills: quick ? 10 : 60, seed: Date.now() % 100_000 });
  rows.push(['kill -9', `${k.tried} kill points, ${k.inconsistent} inconsistent states, ${k.unrepaired} not repaired, ${k.packetsLost}/${k.packetsSent} packets lost after kills`, k.inconsistent === 0 && k.unrepaired === 0 && k.packetsLost === 0]);
  const c = await concurrency({ writers: quick ? 4 : 8, rounds: quick ? 10 : 40 });
  rows.push(['concurrency', `${c.writers} writers, ${c.operations} slot changes, ${c.errors} errors, ${c.conflicts} final states nobody asked for, stats ${c.statsConsistent ? 'consistent' : 'INCONSISTENT'}, ${c.leftLocked ? 'LOCKED' : 'nothing locked'}`, c.errors === 0 && c.conflicts === 0 && c.statsConsistent && !c.leftLocked]);
  const u = await upgrade({ packets: quick ? 3000 : 30_000 });
  rows.push(['hitless upgrade', `${u.sent} packets sent, ${u.lost} lost in XDP (${u.socketDrops} more dropped by the receiving socket's buffer), during ${u.slotSwaps} slot and ${u.rootSwaps} root replacements`, u.lost === 0]);
  if (process.argv.includes('--json')) {
    console.log(JSON.stringify({ fuzz: f, soak: s, privileges: p, killPoints: k, concurrency: c, upgrade: u }, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v)));
  } else {
    const w = Math.max(...rows.map((r) => r[0].length));
    console.log(`reliability (${quick ? 'quick' : 'full'}, ${((Date.now() - t0) / 1000).toFixed(0)} s)`);
    for (const [name, text, ok] of rows) console.log(`${ok ? 'ok  ' : 'FAIL'} ${name.padEnd(w)}  ${text}`);
    for (const n of [...k.notes, ...c.notes].slice(0, 10)) console.log(`     note: ${n}`);
  }
  process.exitCode = rows.every((r) => r[2]) ? 0 : 1;
}

void main().then(() => process.exit(process.exitCode ?? 0), (e) => {
  console.error(e);
  process.exit(2);
});
