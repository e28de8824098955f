#include "features.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "internal/args.h"
#include "errors.h"
#include "internal/kinds.h"
#include "log.h"

namespace features {
namespace {

// Helper names in enum bpf_func_id order, from the UAPI header's own list (the compat form of
// the macro exists in every header version and expands to FN(name), once per helper, in id order).
#define LIBBPF_NODE_HELPER_NAME(x) #x
const char* const kHelperNames[] = {__BPF_FUNC_MAPPER(LIBBPF_NODE_HELPER_NAME)};
#undef LIBBPF_NODE_HELPER_NAME
constexpr int kHelperCount = sizeof(kHelperNames) / sizeof(kHelperNames[0]);

int ProgramTypeByName(const std::string& name) { return kinds::FindProgType(name); }
int MapTypeByName(const std::string& name) { return kinds::FindMapType(name); }

int HelperByName(std::string name) {
  if (name.rfind("bpf_", 0) == 0) name = name.substr(4);
  for (int id = 1; id < kHelperCount; id++) {
    if (name == kHelperNames[id]) return id;
  }
  return -1;
}

// libbpf's probes answer 1 (supported), 0 (not), or a negative errno when they could not tell
// (EPERM without privileges; EOPNOTSUPP from the helper probe: the program type itself is
// missing). The number goes to lib/features.ts as it is: it owns what each answer means.
Napi::Value Answer(Napi::Env env, int ret) { return Napi::Number::New(env, ret); }

Napi::Array Names(Napi::Env env, const std::vector<std::string>& names) {
  Napi::Array a = Napi::Array::New(env, names.size());
  for (size_t i = 0; i < names.size(); i++) a.Set(static_cast<uint32_t>(i), names[i]);
  return a;
}

}  // namespace

Napi::Value JS_probeProgramType(const Napi::CallbackInfo& info) {
  std::string name = args::String(info, 0, "program type");
  int type = ProgramTypeByName(name);
  if (type < 0) throw Napi::TypeError::New(info.Env(), "unknown program type '" + name + "'");
  int ret = libbpf_probe_bpf_prog_type(static_cast<enum bpf_prog_type>(type), nullptr);
  return Answer(info.Env(), ret);
}

Napi::Value JS_probeMapType(const Napi::CallbackInfo& info) {
  std::string name = args::String(info, 0, "map type");
  int type = MapTypeByName(name);
  if (type < 0) throw Napi::TypeError::New(info.Env(), "unknown map type '" + name + "'");
  int ret = libbpf_probe_bpf_map_type(static_cast<enum bpf_map_type>(type), nullptr);
  return Answer(info.Env(), ret);
}

Napi::Value JS_probeHelper(const Napi::CallbackInfo& info) {
  std::string progName = args::String(info, 0, "program type");
  std::string helperName = args::String(info, 1, "helper");
  int type = ProgramTypeByName(progName);
  if (type < 0) throw Napi::TypeError::New(info.Env(), "unknown program type '" + progName + "'");
  int helper = HelperByName(helperName);
  if (helper < 0) throw Napi::TypeError::New(info.Env(), "unknown helper '" + helperName + "'");
  int ret = libbpf_probe_bpf_helper(static_cast<enum bpf_prog_type>(type),
                                    static_cast<enum bpf_func_id>(helper), nullptr);
  return Answer(info.Env(), ret);
}

Napi::Value JS_featureNames(const Napi::CallbackInfo& info) {
  std::vector<std::string> progs = kinds::ProgTypeNames(), maps = kinds::MapTypeNames(), helpers;
  for (int id = 1; id < kHelperCount; id++) helpers.push_back(std::string("bpf_") + kHelperNames[id]);
  Napi::Object out = Napi::Object::New(info.Env());
  out.Set("programTypes", Names(info.Env(), progs));
  out.Set("mapTypes", Names(info.Env(), maps));
  out.Set("helpers", Names(info.Env(), helpers));
  return out;
}

// --- Library feature probes -------------------------------------------------------------------
// Each tries the smallest harmless form of the operation on objects it creates itself (a one-entry
// hash map, a few-instruction XDP program, loaded and run with BPF_PROG_TEST_RUN) and returns
// what the kernel answered: the step it stopped at, its errno (0: it succeeded), the program's
// return value or a BTF lookup's result, and the verifier's log of a refused load.
// lib/features.ts turns these facts into available / not available / undetermined.
namespace {

#ifndef BPF_F_TEST_XDP_LIVE_FRAMES
#define BPF_F_TEST_XDP_LIVE_FRAMES (1U << 1)
#endif

// A file descriptor closed on scope exit.
struct Fd {
  int fd;
  explicit Fd(int f) : fd(f) {}
  ~Fd() { if (fd >= 0) close(fd); }
};

// What one probe saw.
struct Fact {
  std::string step;      // the operation it stopped at: 'map_create', 'prog_load', 'test_run', 'btf_load', 'btf_find', 'map_op'
  int err = 0;           // its errno, 0 when it succeeded
  long retval = -1;      // test_run: the program's return value
  int found = -1;        // btf_find: 1 found, 0 not
  std::string log;       // prog_load refused: the verifier's log
};

int SmallHash() { return bpf_map_create(BPF_MAP_TYPE_HASH, nullptr, 4, 4, 1, nullptr); }

// Loads a program with a verifier log; on refusal records errno and the log in `fact`.
int LoadWithLog(enum bpf_prog_type type, const std::vector<struct bpf_insn>& insns, Fact& fact) {
  std::vector<char> log(4096, 0);
  LIBBPF_OPTS(bpf_prog_load_opts, opts);
  opts.log_level = 1;
  opts.log_size = static_cast<__u32>(log.size());
  opts.log_buf = log.data();
  fact.step = "prog_load";
  int fd = bpf_prog_load(type, nullptr, "GPL", insns.data(), insns.size(), &opts);
  if (fd < 0) {
    fact.err = errno;
    fact.log = std::string(log.data(), strnlen(log.data(), log.size()));
    // Some kernels refuse a log buffer for a program that loads; retry without it then.
    if (fact.err == ENOSPC) {
      fd = bpf_prog_load(type, nullptr, "GPL", insns.data(), insns.size(), nullptr);
      fact.err = fd < 0 ? errno : 0;
    }
  }
  return fd;
}

// An XDP program: `return verdict;`, or with meta > 0, `return adjust_meta(ctx, -meta) ? DROP : PASS;`.
std::vector<struct bpf_insn> XdpProgram(int verdict, int meta) {
  std::vector<struct bpf_insn> insns;
  auto I = [&](uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
    insns.push_back(bpf_insn{code, dst, src, off, imm});
  };
  if (meta > 0) {
    I(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_2, 0, 0, -meta);           // r2 = -meta (r1 = ctx)
    I(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_xdp_adjust_meta);         // r0 = adjust_meta(r1, r2)
    I(BPF_JMP | BPF_JEQ | BPF_K, BPF_REG_0, 0, 2, 0);                 // if r0 == 0 goto pass
    I(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, XDP_DROP);
    I(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
  }
  I(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, verdict);
  I(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
  return insns;
}

// Atomic fetch-and-add on the stack (BPF_ATOMIC | BPF_FETCH, what clang emits for a used
// __sync_fetch_and_add with -mcpu=v3): the verifier refuses it before 5.12.
std::vector<struct bpf_insn> AtomicsProgram() {
  return {
      {BPF_ST | BPF_MEM | BPF_DW, BPF_REG_10, 0, -8, 0},                       // *(u64 *)(r10 - 8) = 0
      {BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_1, 0, 0, 1},                       // r1 = 1
      {BPF_STX | BPF_DW | BPF_ATOMIC, BPF_REG_10, BPF_REG_1, -8, BPF_ADD | BPF_FETCH},
      {BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0},
      {BPF_JMP | BPF_EXIT, 0, 0, 0, 0},
  };
}

// Whether the kernel's own BTF has the type `type` of `kind` (with a member `member`, when given).
Fact KernelHasType(const char* type, int kind, const char* member = nullptr) {
  Fact fact;
  LogCapture capture;  // libbpf's complaint about a missing vmlinux BTF is the answer, not noise
  errno = 0;
  struct btf* vmlinux = btf__load_vmlinux_btf();
  if (vmlinux == nullptr) {
    fact.step = "btf_load";
    fact.err = errno != 0 ? errno : ENOENT;
    return fact;
  }
  fact.step = "btf_find";
  fact.found = 0;
  int id = btf__find_by_name_kind(vmlinux, type, kind);
  if (id > 0 && member == nullptr) fact.found = 1;
  if (id > 0 && member != nullptr) {
    const struct btf_type* t = btf__type_by_id(vmlinux, id);
    const struct btf_member* m = btf_members(t);
    for (int i = 0; i < btf_vlen(t); i++, m++) {
      if (std::string(btf__name_by_offset(vmlinux, m->name_off)) == member) fact.found = 1;
    }
  }
  btf__free(vmlinux);
  return fact;
}

// Returns false for an unknown name.
bool ProbeKernelFeature(const std::string& name, Fact& fact) {
  // struct bpf_xdp_link came with XDP links (5.9).
  if (name == "xdp_link") return fact = KernelHasType("bpf_xdp_link", BTF_KIND_STRUCT), true;
  // Kprobes, uprobes, tracepoints and perf events attach through BPF links since 5.15; before,
  // libbpf attaches them with an ioctl on the perf event and the "link" is the perf event's fd.
  if (name == "perf_link") return fact = KernelHasType("bpf_perf_link", BTF_KIND_STRUCT), true;
  // The verifier's instruction count in the program's info (5.16).
  if (name == "verified_insns") return fact = KernelHasType("bpf_prog_info", BTF_KIND_STRUCT, "verified_insns"), true;
  // Task iterators (5.8) attach to this function's BTF.
  if (name == "iter_task") return fact = KernelHasType("bpf_iter_task", BTF_KIND_FUNC), true;
  // The iterator link's parameters gained a task (pid, tid) and a cgroup part in 6.1.
  if (name == "iter_task_filter") return fact = KernelHasType("bpf_iter_link_info", BTF_KIND_UNION, "task"), true;
  if (name == "iter_cgroup") return fact = KernelHasType("bpf_iter_link_info", BTF_KIND_UNION, "cgroup"), true;
  if (name == "batch_ops" || name == "hash_lookup_and_delete") {
    fact.step = "map_create";
    Fd map(SmallHash());
    if (map.fd < 0) return fact.err = errno, true;
    uint32_t key = 0, value = 0, count = 1;
    int ret;
    fact.step = "map_op";
    if (name == "batch_ops") {
      uint32_t out = 0;
      ret = bpf_map_lookup_batch(map.fd, nullptr, &out, &key, &value, &count, nullptr);
    } else {
      ret = bpf_map_lookup_and_delete_elem(map.fd, &key, &value);
    }
    fact.err = ret < 0 ? -ret : 0;
    return true;
  }
  if (name == "atomics") {
    Fd prog(LoadWithLog(BPF_PROG_TYPE_SOCKET_FILTER, AtomicsProgram(), fact));
    return true;
  }
  if (name == "xdp_meta_64" || name == "xdp_meta" || name == "test_run_xdp_ctx" || name == "xdp_live_frames") {
    bool live = name == "xdp_live_frames";
    bool meta = name == "xdp_meta_64" || name == "xdp_meta";
    // First the verifier: does it allow the program (with bpf_xdp_adjust_meta, for the metadata)?
    Fd prog(LoadWithLog(BPF_PROG_TYPE_XDP, XdpProgram(live ? XDP_DROP : XDP_PASS, meta ? 64 : 0), fact));
    if (prog.fd < 0 || name == "xdp_meta") return true;
    unsigned char frame[128] = {0};
    struct xdp_md ctx = {};
    ctx.data_end = sizeof(frame);
    LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = sizeof(frame));
    if (name == "test_run_xdp_ctx") {
      opts.ctx_in = &ctx;
      opts.ctx_size_in = sizeof(ctx);
    }
    if (live) {
      // Every frame is dropped by the program: nothing is sent anywhere.
      opts.flags = BPF_F_TEST_XDP_LIVE_FRAMES;
      opts.repeat = 1;
    }
    fact.step = "test_run";
    int ret = bpf_prog_test_run_opts(prog.fd, &opts);
    fact.err = ret < 0 ? -ret : 0;
    fact.retval = ret < 0 ? -1 : static_cast<long>(opts.retval);
    return true;
  }
  return false;
}

}  // namespace

Napi::Value JS_probeKernelFeature(const Napi::CallbackInfo& info) {
  std::string name = args::String(info, 0, "feature");
  Fact fact;
  if (!ProbeKernelFeature(name, fact)) throw Napi::TypeError::New(info.Env(), "unknown kernel feature probe '" + name + "'");
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  out.Set("step", fact.step);
  out.Set("errno", fact.err);
  if (fact.step == "test_run" && fact.err == 0) out.Set("retval", Napi::Number::New(env, static_cast<double>(fact.retval)));
  if (fact.found >= 0) out.Set("found", Napi::Boolean::New(env, fact.found == 1));
  if (!fact.log.empty()) out.Set("log", fact.log);
  return out;
}

void Init(Napi::Env env, Napi::Object exports) {
  exports.Set("probeProgramType", Napi::Function::New<JS_probeProgramType>(env, "probeProgramType"));
  exports.Set("probeMapType", Napi::Function::New<JS_probeMapType>(env, "probeMapType"));
  exports.Set("probeHelper", Napi::Function::New<JS_probeHelper>(env, "probeHelper"));
  exports.Set("featureNames", Napi::Function::New<JS_featureNames>(env, "featureNames"));
  exports.Set("probeKernelFeature", Napi::Function::New<JS_probeKernelFeature>(env, "probeKernelFeature"));
}

}  // namespace features
