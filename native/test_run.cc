#include "test_run.h"

#include <bpf/bpf.h>
#include <linux/bpf.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

#include "internal/args.h"
#include "internal/async.h"
#include "errors.h"
#include "internal/netns.h"
#include "program.h"

namespace test_run {
namespace {


struct Baton {
  // Input.
  int progFd = -1;
  std::string progName;
  std::vector<uint8_t> data;
  std::vector<uint8_t> ctx;
  bool hasCtx = false;
  bool ctxInOut = false;  // syscall programs: the kernel writes the context back into ctx_in
  uint32_t repeat = 1;
  uint32_t dataOutSize = 0;
  uint32_t ctxOutSize = 0;
  bool live = false;
  uint32_t batchSize = 0;
  std::string netns;  // entered around the run (live frames: the ingress interface's namespace)
  // Output.
  int err = 0;
  const char* failedOp = "bpf_prog_test_run_opts";
  uint32_t retval = 0;
  uint32_t duration = 0;
  uint64_t elapsedNs = 0;
  std::vector<uint8_t> dataOut;
  std::vector<uint8_t> ctxOut;
};

uint64_t NowNs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + ts.tv_nsec;
}

uint32_t OptionalUint(Napi::Object o, const char* key, uint32_t fallback) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) return fallback;
  if (!v.IsNumber()) throw Napi::TypeError::New(o.Env(), std::string("options.") + key + " must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0 && d <= 4294967295.0) || d != static_cast<double>(static_cast<uint64_t>(d)))
    throw Napi::RangeError::New(o.Env(), std::string("options.") + key + " must be an integer in [0, 2^32)");
  return static_cast<uint32_t>(d);
}

std::vector<uint8_t> CopyBytes(Napi::Value v, const char* name) {
  if (!v.IsTypedArray()) throw Napi::TypeError::New(v.Env(), std::string(name) + " must be a Buffer or Uint8Array");
  Napi::TypedArray ta = v.As<Napi::TypedArray>();
  const uint8_t* p = static_cast<const uint8_t*>(args::ViewOf(ta.Env(), ta, "bytes").data);
  return std::vector<uint8_t>(p, p + ta.ByteLength());
}

// Reads the arguments into a baton on the main thread; the live-frames ingress interface is
// resolved here (inside its namespace) and written into the xdp_md context.
Baton Prepare(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Baton b;
  ProgramWrap* prog = ProgramWrap::FromValue(env, args::At(info, 0), "program");
  b.progName = prog->Name();
  Napi::Value ov = args::At(info, 1);
  if (!ov.IsObject()) throw Napi::TypeError::New(env, "options must be an object");
  Napi::Object o = ov.As<Napi::Object>();
  Napi::Value data = o.Get("data");
  if (!data.IsUndefined()) b.data = CopyBytes(data, "options.data");
  Napi::Value ctx = o.Get("ctx");
  if (!ctx.IsUndefined() && !ctx.IsNull()) {
    b.ctx = CopyBytes(ctx, "options.ctx");
    b.hasCtx = true;
  }
  b.repeat = OptionalUint(o, "repeat", 1);
  b.ctxInOut = o.Get("ctxInOut").ToBoolean().Value();
  b.live = o.Get("live").ToBoolean().Value();
  b.batchSize = OptionalUint(o, "batchSize", 0);
  // Output sizes: lib/test-run.ts chooses the defaults.
  b.dataOutSize = OptionalUint(o, "dataOutSize", 0);
  b.ctxOutSize = OptionalUint(o, "ctxOutSize", 0);
  Napi::Value ingress = o.Get("ingress");
  if (!ingress.IsUndefined() && !ingress.IsNull()) {
    if (!ingress.IsObject()) throw Napi::TypeError::New(env, "options.ingress must be an interface { name | index, netns? }");
    Napi::Object io = ingress.As<Napi::Object>();
    InterfaceRef ref;
    if (io.Get("name").IsString()) ref.name = io.Get("name").As<Napi::String>().Utf8Value();
    else if (io.Get("index").IsNumber()) ref.index = io.Get("index").As<Napi::Number>().Int32Value();
    else throw Napi::TypeError::New(env, "options.ingress needs a name or an index");
    if (io.Get("netns").IsString()) ref.netns = io.Get("netns").As<Napi::String>().Utf8Value();
    int ifindex;
    {
      NetnsScope scope(ref.netns);
      ifindex = EnterAndResolve(env, scope, ref);
    }
    b.netns = ref.netns;
    if (!b.hasCtx) {
      b.ctx.assign(sizeof(struct xdp_md), 0);
      b.hasCtx = true;
    }
    if (b.ctx.size() < offsetof(struct xdp_md, ingress_ifindex) + sizeof(__u32))
      throw Napi::RangeError::New(env, "options.ctx is too short for an xdp_md with ingress_ifindex");
    __u32 idx = static_cast<__u32>(ifindex);
    memcpy(b.ctx.data() + offsetof(struct xdp_md, ingress_ifindex), &idx, sizeof(idx));
    // The kernel wants the context to describe the frame: data 0, data_end its length.
    __u32 end = static_cast<__u32>(b.data.size());
    if (b.ctx.size() >= offsetof(struct xdp_md, data_end) + sizeof(__u32)) {
      __u32 given;
      memcpy(&given, b.ctx.data() + offsetof(struct xdp_md, data_end), sizeof(given));
      if (given == 0) memcpy(b.ctx.data() + offsetof(struct xdp_md, data_end), &end, sizeof(end));
    }
  }
  if (b.live) {
    // Live frames: no output buffers (the frames leave through the interface).
    b.dataOutSize = 0;
    b.ctxOutSize = 0;
  }
  // Our own fd for the run: closing the program (or its object) meanwhile cannot pull it away
  // or, worse, let its number be reused for something else.
  b.progFd = fcntl(prog->Fd(env, "run a program"), F_DUPFD_CLOEXEC, 3);
  if (b.progFd < 0) ThrowBpfError(env, "fcntl", -errno);
  return b;
}

// The run itself: C only, any thread.
void Run(Baton& b) {
  NetnsScope scope(b.netns);
  if (scope.error() != 0) {
    b.err = scope.error();
    b.failedOp = scope.failedOp();
    return;
  }
  b.dataOut.resize(b.dataOutSize);
  b.ctxOut.resize(b.ctxOutSize);
  LIBBPF_OPTS(bpf_test_run_opts, opts);
  opts.data_in = b.data.empty() ? nullptr : b.data.data();
  opts.data_size_in = b.data.size();
  opts.data_out = b.dataOutSize ? b.dataOut.data() : nullptr;
  opts.data_size_out = b.dataOutSize;
  opts.ctx_in = b.hasCtx ? b.ctx.data() : nullptr;
  opts.ctx_size_in = b.hasCtx ? b.ctx.size() : 0;
  opts.ctx_out = b.ctxOutSize ? b.ctxOut.data() : nullptr;
  opts.ctx_size_out = b.ctxOutSize;
  opts.repeat = static_cast<int>(b.repeat);
  opts.flags = b.live ? BPF_F_TEST_XDP_LIVE_FRAMES : 0;
  opts.batch_size = b.batchSize;
  uint64_t start = NowNs();
  int err = bpf_prog_test_run_opts(b.progFd, &opts);
  int savedErrno = errno;  // before clock_gettime, which may change it
  b.elapsedNs = NowNs() - start;
  if (err != 0) {
    b.err = -savedErrno;
    return;
  }
  b.retval = opts.retval;
  b.duration = opts.duration;
  b.dataOut.resize(std::min<size_t>(opts.data_size_out, b.dataOutSize));
  b.ctxOut.resize(std::min<size_t>(opts.ctx_size_out, b.ctxOutSize));
  if (b.ctxInOut && b.hasCtx) b.ctxOut = b.ctx;
}

Napi::Value ErrorFor(Napi::Env env, const Baton& b) {
  BpfErrorDetails d("test-run");
  d.Set("program", b.progName).Set("live", b.live ? 1 : 0);
  return MakeBpfError(env, b.failedOp, b.err, d);
}

Napi::Object Result(Napi::Env env, Baton& b) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("retval", b.retval);
  out.Set("durationNs", b.duration);
  out.Set("elapsedNs", static_cast<double>(b.elapsedNs));
  out.Set("data", Napi::Buffer<uint8_t>::Copy(env, b.dataOut.data(), b.dataOut.size()));
  if (b.ctxOutSize || (b.ctxInOut && b.hasCtx)) out.Set("ctx", Napi::Buffer<uint8_t>::Copy(env, b.ctxOut.data(), b.ctxOut.size()));
  return out;
}

class TestRunWorker : public Napi::AsyncWorker {
 public:
  TestRunWorker(Napi::Env env, Baton baton, Napi::Object program)
      : Napi::AsyncWorker(env, "libbpf-node:testRun"), completion_(env), baton_(std::move(baton)) {
    // The program handle stays reachable until the run ends (its fd is our own dup).
    program_ = Napi::Persistent(program);
  }
  ~TestRunWorker() override { close(baton_.progFd); }
  Napi::Value Promise() { return completion_.Promise(); }

  void Execute() override { Run(baton_); }

  // Also runs during environment teardown: Settle never throws (see async.h).
  void OnOK() override {
    completion_.Settle([&]() -> Napi::Value {
      if (baton_.err != 0) throw Napi::Error(Env(), ErrorFor(Env(), baton_));
      return Result(Env(), baton_);
    });
  }

 private:
  Completion completion_;
  Napi::ObjectReference program_;
  Baton baton_;
};

}  // namespace

void Init(Napi::Env env, Napi::Object exports) {
  exports.Set("testRun", Napi::Function::New<JS_testRun>(env, "testRun"));
  exports.Set("testRunAsync", Napi::Function::New<JS_testRunAsync>(env, "testRunAsync"));
}

Napi::Value JS_testRun(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Baton b = Prepare(info);
  Run(b);
  close(b.progFd);
  if (b.err != 0) throw Napi::Error(env, ErrorFor(env, b));
  return Result(env, b);
}

Napi::Value JS_testRunAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Baton b = Prepare(info);
  auto* worker = new TestRunWorker(env, std::move(b), args::At(info, 0).As<Napi::Object>());
  Napi::Value promise = worker->Promise();
  worker->Queue();
  return promise;
}

}  // namespace test_run
