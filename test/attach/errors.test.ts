// Errors that say why: libbpf's reason in the message and in `details`, EPERM diagnosed from the
// capabilities the process really has, legacy section names, programs without an attach type.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { BpfError, BpfObject } from '../../lib/index';
import { describeBpf, fixturePath, itBpf } from '../support/helpers';

const ERRORS_JS = join(__dirname, '..', '..', 'dist', 'lib', 'errors.js');

/** The error `fn` rejects or throws with. */
async function failure(fn: () => unknown): Promise<BpfError> {
  try {
    await fn();
  } catch (e) {
    expect(e).toBeInstanceOf(BpfError);
    return e as BpfError;
  }
  throw new Error('expected a BpfError');
}

describeBpf('errors that carry libbpf\'s reason', () => {
  it('a legacy section name says "missing BPF prog type, check ELF section name", with no logger set', async () => {
    using obj = BpfObject.open(fixturePath('legacy_section'));
    const e = await failure(() => obj.load());
    expect(e.code).toBe('EINVAL');
    expect(e.message).toContain("missing BPF prog type, check ELF section name 'xdp_prog'");
    expect(e.details.some((l) => l.includes('missing BPF prog type'))).toBe(true);
  });

  it('reports no expected attach type for programs that have none', async () => {
    const cases: Array<[string, string, string]> = [
      ['attach_uprobe', 'on_target', ''],
      ['attach_socket', 'drop_marked', ''],
      ['attach_perf_event', 'on_sample', ''],
      ['attach_kprobe', 'on_tracepoint', ''],
      ['attach_cgroup', 'count_ingress', 'cgroup_inet_ingress'],
      ['attach_cgroup', 'count_egress', 'cgroup_inet_egress'],
    ];
    for (const [file, prog, expected] of cases) {
      using obj = BpfObject.open(fixturePath(file));
      expect(obj.program(prog).expectedAttachType, `${file}:${prog}`).toBe(expected);
    }
  });
});

describeBpf('EPERM diagnosed from the capabilities the process has', () => {
  it('as root with every capability: says more privileges will not help', () => {
    const e = new BpfError('bpf_object__load', 1);
    expect(e.hint).toMatch(/already has CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON, so more privileges will not help/);
    expect(e.hint).not.toMatch(/needs CAP_BPF/);
    const attach = new BpfError('bpf_program__attach_trace_opts', 1);
    expect(attach.hint).toMatch(/already has CAP_BPF and CAP_PERFMON/);
    expect(attach.hint).toMatch(/refuses this kind of attach|active here: /);
  });

  it('blames only what is active: no SELinux, AppArmor or seccomp where the kernel shows none', () => {
    const selinux = existsSync('/sys/fs/selinux/enforce');
    const apparmor = existsSync('/sys/module/apparmor/parameters/enabled') && readFileSync('/sys/module/apparmor/parameters/enabled', 'utf8').trim() === 'Y';
    const seccomp = /^Seccomp:\s*2/m.test(readFileSync('/proc/self/status', 'utf8'));
    const hint = new BpfError('bpf_object__load', 1).hint!;
    if (!selinux) expect(hint).not.toMatch(/SELinux/);
    else expect(hint).toMatch(/SELinux is active/);
    if (!apparmor) expect(hint).not.toMatch(/AppArmor/);
    else expect(hint).toMatch(/AppArmor is active/);
    if (!seccomp) expect(hint).not.toMatch(/seccomp filter applies/);
  });

  itBpf('without CAP_BPF/CAP_SYS_ADMIN (capsh in a child): names what is missing', () => {
    const script = `const { BpfError } = require(${JSON.stringify(ERRORS_JS)}); process.stdout.write(new BpfError('bpf_object__load', 1).hint);`;
    const hint = execFileSync('capsh', ['--drop=cap_bpf,cap_sys_admin,cap_perfmon', '--', '-c', `exec ${process.execPath} -e "$0"`, script], { encoding: 'utf8' });
    // Every capability it lacks is named, not only the first.
    expect(hint).toMatch(/lacks CAP_BPF and CAP_PERFMON/);
    expect(hint).not.toMatch(/more privileges will not help/);
  });
});
