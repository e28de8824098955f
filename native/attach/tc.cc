#include "tc.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/netlink.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "../internal/args.h"
#include "../errors.h"
#include "../link.h"
#include "../log.h"
#include "../internal/netns.h"
#include "../program.h"

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
  exports.Set("tcFilterList", Napi::Function::New<JS_filterList>(env, "tcFilterList"));
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
    BpfErrorDetails d("tc-attach");
    d.program = prog->Name();
    ref.AddTo(d);
    d.Set("direction", ingress ? "ingress" : "egress").Set("mechanism", "tcx");
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
    BpfErrorDetails d("tc-query");
    ref.AddTo(d);
    d.Set("mechanism", "tcx");
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
    d.what = "tc-attach";
    ref.AddTo(d);
    d.Set("direction", ingress ? "ingress" : "egress").Set("mechanism", "cls_bpf").Set("handle", handle).Set("priority", priority);
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
    BpfErrorDetails d("tc-detach");
    ref.AddTo(d);
    d.Set("mechanism", "cls_bpf").Set("handle", handle).Set("priority", priority);
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


namespace {

// One cls_bpf filter from the dump.
struct FilterEntry {
  __u32 handle = 0;
  __u32 priority = 0;
  __u32 progId = 0;
  bool directAction = false;
  std::string section;  // TCA_BPF_NAME: what tc/libbpf called it ("file.o:[sec]" for tc, "cls_bpf" for libbpf)
};

// Walks the attributes of [data, data + len): calls fn(type, payload, payloadLen) for each.
template <typename Fn>
void ForEachAttr(const char* data, int len, Fn fn) {
  for (const struct rtattr* a = reinterpret_cast<const struct rtattr*>(data); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
    fn(a->rta_type & NLA_TYPE_MASK, static_cast<const char*>(RTA_DATA(a)), static_cast<int>(RTA_PAYLOAD(a)));
  }
}

// Dumps the filters of one clsact hook of `ifindex` (in the current namespace). Returns 0 or a
// negative errno; a missing clsact qdisc is no filters.
int DumpFilters(int ifindex, bool ingress, std::vector<FilterEntry>& out) {
  int sock = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (sock < 0) return -errno;
  // The kernel answers a dump at once; the timeout only guards against a reply that never comes.
  struct timeval tv = {2, 0};
  setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  struct {
    struct nlmsghdr nh;
    struct tcmsg t;
  } req;
  memset(&req, 0, sizeof(req));
  req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct tcmsg));
  req.nh.nlmsg_type = RTM_GETTFILTER;
  req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  req.nh.nlmsg_seq = 1;
  req.t.tcm_family = AF_UNSPEC;
  req.t.tcm_ifindex = ifindex;
  req.t.tcm_parent = TC_H_MAKE(TC_H_CLSACT, ingress ? TC_H_MIN_INGRESS : TC_H_MIN_EGRESS);
  if (send(sock, &req, req.nh.nlmsg_len, 0) < 0) {
    int err = -errno;
    close(sock);
    return err;
  }
  std::vector<char> buf(64 * 1024);
  int result = 0;
  bool done = false;
  while (!done) {
    ssize_t n = recv(sock, buf.data(), buf.size(), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      result = -errno;
      break;
    }
    int len = static_cast<int>(n);
    // NLMSG_OK compares the u32 nlmsg_len with the int length: the UAPI macro's own mix.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wsign-compare"
    for (struct nlmsghdr* nh = reinterpret_cast<struct nlmsghdr*>(buf.data()); NLMSG_OK(nh, len); nh = NLMSG_NEXT(nh, len)) {
      if (nh->nlmsg_seq != 1) continue;
      if (nh->nlmsg_type == NLMSG_DONE) {
        done = true;
        break;
      }
      if (nh->nlmsg_type == NLMSG_ERROR) {
        int err = reinterpret_cast<struct nlmsgerr*>(NLMSG_DATA(nh))->error;
        // No clsact qdisc on the interface: no filters.
        result = (err == -EINVAL || err == -ENOENT) ? 0 : err;
        done = true;
        break;
      }
      if (nh->nlmsg_type != RTM_NEWTFILTER) continue;
      const struct tcmsg* t = static_cast<const struct tcmsg*>(NLMSG_DATA(nh));
      FilterEntry e;
      e.handle = t->tcm_handle;
      e.priority = TC_H_MAJ(t->tcm_info) >> 16;
      bool isBpf = false;
      const char* attrs = reinterpret_cast<const char*>(t) + NLMSG_ALIGN(sizeof(struct tcmsg));
      int attrLen = static_cast<int>(nh->nlmsg_len) - NLMSG_LENGTH(sizeof(struct tcmsg));
      ForEachAttr(attrs, attrLen, [&](int type, const char* p, int plen) {
        if (type == TCA_KIND) isBpf = strncmp(p, "bpf", plen) == 0;
        if (type != TCA_OPTIONS) return;
        ForEachAttr(p, plen, [&](int otype, const char* op, int oplen) {
          if (otype == TCA_BPF_ID && oplen >= 4) memcpy(&e.progId, op, 4);
          if (otype == TCA_BPF_NAME && oplen > 0) e.section.assign(op, strnlen(op, oplen));
          if (otype == TCA_BPF_FLAGS && oplen >= 4) {
            __u32 flags;
            memcpy(&flags, op, 4);
            e.directAction = (flags & TCA_BPF_FLAG_ACT_DIRECT) != 0;
          }
        });
      });
      // A dump also lists each priority's empty chain head (handle 0, no options): skip it.
      if (isBpf && e.progId != 0) out.push_back(e);
    }
#pragma GCC diagnostic pop
  }
  close(sock);
  return result;
}

}  // namespace

Napi::Value JS_filterList(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  InterfaceRef ref = ParseInterfaceRef(info, 0);
  bool ingress = Ingress(info, 1);
  NetnsScope scope(ref.netns);
  int ifindex = EnterAndResolve(env, scope, ref);
  std::vector<FilterEntry> filters;
  int err = DumpFilters(ifindex, ingress, filters);
  if (err != 0) {
    BpfErrorDetails d("tc-query");
    ref.AddTo(d);
    d.Set("direction", ingress ? "ingress" : "egress").Set("mechanism", "cls_bpf");
    ThrowBpfError(env, "netlink RTM_GETTFILTER", err, d);
  }
  Napi::Array list = Napi::Array::New(env, filters.size());
  for (size_t i = 0; i < filters.size(); i++) {
    Napi::Object f = Napi::Object::New(env);
    f.Set("handle", filters[i].handle);
    f.Set("priority", filters[i].priority);
    f.Set("progId", filters[i].progId);
    f.Set("name", ProgramNameById(filters[i].progId));
    f.Set("section", filters[i].section);
    f.Set("directAction", filters[i].directAction);
    list.Set(static_cast<uint32_t>(i), f);
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("ifindex", ifindex);
  out.Set("filters", list);
  return out;
}

}  // namespace tc
