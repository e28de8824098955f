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
// (EPERM without privileges). EOPNOTSUPP from the helper probe means the program type itself is
// missing, which is a "no" for the helper.
Napi::Value Answer(Napi::Env env, const char* op, int ret) {
  if (ret == -EOPNOTSUPP) return Napi::Boolean::New(env, false);
  if (ret < 0) ThrowBpfError(env, op, ret);
  return Napi::Boolean::New(env, ret == 1);
}

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
  return Answer(info.Env(), "libbpf_probe_bpf_prog_type", ret);
}

Napi::Value JS_probeMapType(const Napi::CallbackInfo& info) {
  std::string name = args::String(info, 0, "map type");
  int type = MapTypeByName(name);
  if (type < 0) throw Napi::TypeError::New(info.Env(), "unknown map type '" + name + "'");
  int ret = libbpf_probe_bpf_map_type(static_cast<enum bpf_map_type>(type), nullptr);
  return Answer(info.Env(), "libbpf_probe_bpf_map_type", ret);
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
  return Answer(info.Env(), "libbpf_probe_bpf_helper", ret);
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
// hash map, a two-instruction XDP program run with BPF_PROG_TEST_RUN) and reads the kernel's
// answer: 1 yes, 0 no, -1 cannot tell (then lib/features.ts decides from the kernel version).
namespace {

#ifndef BPF_F_TEST_XDP_LIVE_FRAMES
#define BPF_F_TEST_XDP_LIVE_FRAMES (1U << 1)
#endif
constexpr int kENOTSUPP = 524;  // the kernel-internal "not supported" that leaks to userspace

// A file descriptor closed on scope exit.
struct Fd {
  int fd;
  explicit Fd(int f) : fd(f) {}
  ~Fd() { if (fd >= 0) close(fd); }
};

int SmallHash() { return bpf_map_create(BPF_MAP_TYPE_HASH, nullptr, 4, 4, 1, nullptr); }

// An XDP program: `return verdict;`, or with meta > 0, `return adjust_meta(ctx, -meta) ? DROP : PASS;`.
int XdpProgram(int verdict, int meta) {
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
  return bpf_prog_load(BPF_PROG_TYPE_XDP, nullptr, "GPL", insns.data(), insns.size(), nullptr);
}

// Atomic fetch-and-add on the stack (BPF_ATOMIC | BPF_FETCH, what clang emits for a used
// __sync_fetch_and_add with -mcpu=v3): the verifier refuses it before 5.12.
int AtomicsProgram() {
  const struct bpf_insn insns[] = {
      {BPF_ST | BPF_MEM | BPF_DW, BPF_REG_10, 0, -8, 0},                       // *(u64 *)(r10 - 8) = 0
      {BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_1, 0, 0, 1},                       // r1 = 1
      {BPF_STX | BPF_DW | BPF_ATOMIC, BPF_REG_10, BPF_REG_1, -8, BPF_ADD | BPF_FETCH},
      {BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0},
      {BPF_JMP | BPF_EXIT, 0, 0, 0, 0},
  };
  return bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, nullptr, "GPL", insns, 5, nullptr);
}

// Whether the kernel's own BTF has the type `type` of `kind` (with a member `member`, when given):
// 1, 0, or -1 without kernel BTF.
int KernelHasType(const char* type, int kind, const char* member = nullptr) {
  struct btf* vmlinux = btf__load_vmlinux_btf();
  if (vmlinux == nullptr) return -1;
  int found = 0;
  int id = btf__find_by_name_kind(vmlinux, type, kind);
  if (id > 0 && member == nullptr) found = 1;
  if (id > 0 && member != nullptr) {
    const struct btf_type* t = btf__type_by_id(vmlinux, id);
    const struct btf_member* m = btf_members(t);
    for (int i = 0; i < btf_vlen(t); i++, m++) {
      if (std::string(btf__name_by_offset(vmlinux, m->name_off)) == member) found = 1;
    }
  }
  btf__free(vmlinux);
  return found;
}

int ProbeKernelFeature(const std::string& name) {
  // struct bpf_xdp_link came with XDP links (5.9).
  if (name == "xdp_link") return KernelHasType("bpf_xdp_link", BTF_KIND_STRUCT);
  // Kprobes, uprobes, tracepoints and perf events attach through BPF links since 5.15; before,
  // libbpf attaches them with an ioctl on the perf event and the "link" is the perf event's fd.
  if (name == "perf_link") return KernelHasType("bpf_perf_link", BTF_KIND_STRUCT);
  // The verifier's instruction count in the program's info (5.16).
  if (name == "verified_insns") return KernelHasType("bpf_prog_info", BTF_KIND_STRUCT, "verified_insns");
  // Task iterators (5.8) attach to this function's BTF.
  if (name == "iter_task") return KernelHasType("bpf_iter_task", BTF_KIND_FUNC);
  // The iterator link's parameters gained a task (pid, tid) and a cgroup part in 6.1.
  if (name == "iter_task_filter") return KernelHasType("bpf_iter_link_info", BTF_KIND_UNION, "task");
  if (name == "iter_cgroup") return KernelHasType("bpf_iter_link_info", BTF_KIND_UNION, "cgroup");
  if (name == "batch_ops" || name == "hash_lookup_and_delete") {
    Fd map(SmallHash());
    if (map.fd < 0) return -1;
    uint32_t key = 0, value = 0, count = 1;
    int ret;
    if (name == "batch_ops") {
      uint32_t out = 0;
      ret = bpf_map_lookup_batch(map.fd, nullptr, &out, &key, &value, &count, nullptr);
    } else {
      ret = bpf_map_lookup_and_delete_elem(map.fd, &key, &value);
    }
    // An empty map answers ENOENT where the operation exists.
    if (ret == 0 || ret == -ENOENT) return 1;
    return (ret == -EINVAL || ret == -kENOTSUPP || ret == -EOPNOTSUPP) ? 0 : -1;
  }
  if (name == "atomics") {
    Fd prog(AtomicsProgram());
    return prog.fd >= 0 ? 1 : (errno == EINVAL || errno == EACCES) ? 0 : -1;
  }
  if (name == "xdp_meta_64" || name == "test_run_xdp_ctx" || name == "xdp_live_frames") {
    bool live = name == "xdp_live_frames";
    Fd prog(XdpProgram(live ? XDP_DROP : XDP_PASS, name == "xdp_meta_64" ? 64 : 0));
    if (prog.fd < 0) return -1;
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
    int ret = bpf_prog_test_run_opts(prog.fd, &opts);
    if (ret == -EINVAL || ret == -EOPNOTSUPP) return 0;
    if (ret < 0) return -1;
    // Kernels before 5.18 that do not check the flags run the frame the ordinary way and report
    // the program's XDP_DROP; a live run reports no verdict (0).
    if (live) return opts.retval == 0 ? 1 : 0;
    return opts.retval == XDP_PASS ? 1 : 0;
  }
  return -2;
}

}  // namespace

Napi::Value JS_probeKernelFeature(const Napi::CallbackInfo& info) {
  std::string name = args::String(info, 0, "feature");
  int r = ProbeKernelFeature(name);
  if (r == -2) throw Napi::TypeError::New(info.Env(), "unknown kernel feature probe '" + name + "'");
  if (r < 0) return info.Env().Undefined();
  return Napi::Boolean::New(info.Env(), r == 1);
}

void Init(Napi::Env env, Napi::Object exports) {
  exports.Set("probeProgramType", Napi::Function::New<JS_probeProgramType>(env, "probeProgramType"));
  exports.Set("probeMapType", Napi::Function::New<JS_probeMapType>(env, "probeMapType"));
  exports.Set("probeHelper", Napi::Function::New<JS_probeHelper>(env, "probeHelper"));
  exports.Set("featureNames", Napi::Function::New<JS_featureNames>(env, "featureNames"));
  exports.Set("probeKernelFeature", Napi::Function::New<JS_probeKernelFeature>(env, "probeKernelFeature"));
}

}  // namespace features
