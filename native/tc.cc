#include "tc.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "args.h"
#include "errors.h"
#include "link.h"
#include "log.h"
#include "netns.h"
#include "program.h"

namespace tc {
namespace {

bool Ingress(const Napi::CallbackInfo& info, size_t i) {
  std::string d = args::String(info, i, "direction");
  if (d == "ingress") return true;
  if (d == "egress") return false;
  throw Napi::RangeError::New(info.Env(), "direction must be 'ingress' or 'egress', got '" + d + "'");
}

}  // namespace

void Init(Napi::Env env, Napi::Object exports) {
  exports.Set("tcxAttach", Napi::Function::New<JS_tcxAttach>(env, "tcxAttach"));
  exports.Set("tcxQuery", Napi::Function::New<JS_tcxQuery>(env, "tcxQuery"));
  exports.Set("tcFilterAttach", Napi::Function::New<JS_filterAttach>(env, "tcFilterAttach"));
  exports.Set("tcFilterDetach", Napi::Function::New<JS_filterDetach>(env, "tcFilterDetach"));
  exports.Set("tcFilterQuery", Napi::Function::New<JS_filterQuery>(env, "tcFilterQuery"));
}

Napi::Value JS_tcxAttach(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ProgramWrap* prog = ProgramWrap::FromValue(env, args::At(info, 0), "program");
  InterfaceRef ref = ParseInterfaceRef(info, 1);
  bool ingress = Ingress(info, 2);
  int progFd = prog->Fd(env, "attach a program");

  NetnsScope scope(ref.netns);
  int ifindex = EnterAndResolve(env, scope, ref);
  LIBBPF_OPTS(bpf_link_create_opts, opts);
  int fd = bpf_link_create(progFd, ifindex, ingress ? BPF_TCX_INGRESS : BPF_TCX_EGRESS, &opts);
  if (fd < 0) {
    int err = -errno;
    BpfErrorDetails d;
    d.program = prog->Name();
    d.detail = "attaching tc program '" + d.program + "' to " + ref.Describe() + (ingress ? " ingress" : " egress") + " with tcx";
    if (err == -EINVAL) d.detail += " (tcx needs kernel 6.6+ and a sched_cls program; the legacy path is { mechanism: 'cls_bpf' })";
    ThrowBpfError(env, "bpf_link_create", err, d);
  }
  return BpfLinkWrap::NewFromFd(env, fd);
}

Napi::Value JS_tcxQuery(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  InterfaceRef ref = ParseInterfaceRef(info, 0);
  bool ingress = Ingress(info, 1);
  NetnsScope scope(ref.netns);
  int ifindex = EnterAndResolve(env, scope, ref);
  std::vector<__u32> ids(64), links(64);
  LIBBPF_OPTS(bpf_prog_query_opts, q);
  q.prog_ids = ids.data();
  q.link_ids = links.data();
  q.count = ids.size();
  if (bpf_prog_query_opts(ifindex, ingress ? BPF_TCX_INGRESS : BPF_TCX_EGRESS, &q) != 0) {
    int err = -errno;
    BpfErrorDetails d;
    d.detail = "querying tcx on " + ref.Describe();
    ThrowBpfError(env, "bpf_prog_query_opts", err, d);
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("ifindex", ifindex);
  out.Set("revision", Napi::BigInt::New(env, static_cast<uint64_t>(q.revision)));
  Napi::Array progs = Napi::Array::New(env);
  for (__u32 i = 0; i < q.count && i < ids.size(); i++) {
    Napi::Object p = Napi::Object::New(env);
    p.Set("id", ids[i]);
    p.Set("name", ProgramNameById(ids[i]));
    if (links[i] != 0) p.Set("linkId", links[i]);
    progs.Set(i, p);
  }
  out.Set("programs", progs);
  return out;
}

Napi::Value JS_filterAttach(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ProgramWrap* prog = ProgramWrap::FromValue(env, args::At(info, 0), "program");
  InterfaceRef ref = ParseInterfaceRef(info, 1);
  bool ingress = Ingress(info, 2);
  Napi::Value optsValue = args::At(info, 3);
  if (!optsValue.IsObject()) throw Napi::TypeError::New(env, "options must be an object");
  Napi::Object o = optsValue.As<Napi::Object>();
  __u32 handle = o.Get("handle").IsNumber() ? o.Get("handle").As<Napi::Number>().Uint32Value() : 0;
  __u32 priority = o.Get("priority").IsNumber() ? o.Get("priority").As<Napi::Number>().Uint32Value() : 0;
  bool replace = o.Get("replace").ToBoolean().Value();
  int progFd = prog->Fd(env, "attach a program");

  NetnsScope scope(ref.netns);
  int ifindex = EnterAndResolve(env, scope, ref);
  LogCapture capture;
  LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = ingress ? BPF_TC_INGRESS : BPF_TC_EGRESS);
  int err = bpf_tc_hook_create(&hook);
  bool hookCreated = err == 0;
  if (err == -EEXIST) err = 0;  // a clsact qdisc is already there: share it
  std::string op = "bpf_tc_hook_create";
  LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = progFd, .flags = replace ? static_cast<__u32>(BPF_TC_F_REPLACE) : 0u, .handle = handle, .priority = priority);
  if (err == 0) {
    op = "bpf_tc_attach";
    err = bpf_tc_attach(&hook, &opts);
    // A clsact qdisc we made only for this filter does not outlive its failure.
    if (err != 0 && hookCreated) {
      hook.attach_point = static_cast<enum bpf_tc_attach_point>(BPF_TC_INGRESS | BPF_TC_EGRESS);
      bpf_tc_hook_destroy(&hook);
      hookCreated = false;
    }
  }
  BpfErrorDetails d;
  if (err != 0) d.program = prog->Name();
  // Namespace-dependent calls done: now the logger (JavaScript), then nothing native.
  capture.Deliver(env);
  if (err != 0) {
    d.detail = "attaching tc program '" + d.program + "' to " + ref.Describe() + (ingress ? " ingress" : " egress") + " as a cls_bpf filter";
    if (err == -EEXIST) d.detail += ": a filter with handle " + std::to_string(handle) + " and priority " + std::to_string(priority) + " exists; pass { replace: true }";
    ThrowBpfError(env, op, err, d);
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("ifindex", ifindex);
  out.Set("handle", opts.handle);
  out.Set("priority", opts.priority);
  out.Set("progId", opts.prog_id);
  out.Set("hookCreated", hookCreated);
  return out;
}

Napi::Value JS_filterDetach(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  InterfaceRef ref = ParseInterfaceRef(info, 0);
  bool ingress = Ingress(info, 1);
  __u32 handle = args::Uint32(info, 2, "handle");
  __u32 priority = args::Uint32(info, 3, "priority");
  NetnsScope scope(ref.netns);
  int ifindex = EnterAndResolve(env, scope, ref);
  LogCapture capture;
  LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = ingress ? BPF_TC_INGRESS : BPF_TC_EGRESS);
  LIBBPF_OPTS(bpf_tc_opts, opts, .handle = handle, .priority = priority);
  int err = bpf_tc_detach(&hook, &opts);
  capture.Deliver(env);
  if (err == -ENOENT || err == -EINVAL) return Napi::Boolean::New(env, false);
  if (err != 0) {
    BpfErrorDetails d;
    d.detail = "detaching the cls_bpf filter " + std::to_string(handle) + ":" + std::to_string(priority) + " from " + ref.Describe();
    ThrowBpfError(env, "bpf_tc_detach", err, d);
  }
  return Napi::Boolean::New(env, true);
}

Napi::Value JS_filterQuery(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  InterfaceRef ref = ParseInterfaceRef(info, 0);
  bool ingress = Ingress(info, 1);
  __u32 handle = args::Uint32(info, 2, "handle");
  __u32 priority = args::Uint32(info, 3, "priority");
  NetnsScope scope(ref.netns);
  int ifindex = EnterAndResolve(env, scope, ref);
  LogCapture capture;
  LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = ingress ? BPF_TC_INGRESS : BPF_TC_EGRESS);
  LIBBPF_OPTS(bpf_tc_opts, opts, .handle = handle, .priority = priority);
  int err = bpf_tc_query(&hook, &opts);
  capture.Take();  // "not found" is an answer here, not a warning
  if (err == -ENOENT || err == -EINVAL) return env.Null();
  if (err != 0) ThrowBpfError(env, "bpf_tc_query", err);
  return Napi::Number::New(env, opts.prog_id);
}

}  // namespace tc
