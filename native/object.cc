#include "object.h"

#include <bpf/btf.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <memory>

#include "addon.h"
#include "internal/async.h"
#include "internal/args.h"
#include "errors.h"
#include "log.h"
#include "map/map.h"
#include "program.h"

namespace {

// The kernel's limit for a verifier log buffer (kernel/bpf/log.c: len_total > UINT_MAX >> 2).
constexpr uint32_t kMaxLogSize = UINT32_MAX >> 2;

// libbpf prints the log of a refused program (grown on ENOSPC in its own buffer) as one warning:
// "prog 'NAME': -- BEGIN PROG LOAD LOG --\n<log>-- END PROG LOAD LOG --". Takes it from the records.
bool FindLibbpfVerifierLog(const std::vector<LogRecord>& logs, std::string* program, std::string* log) {
  static const std::string kBegin = "-- BEGIN PROG LOAD LOG --\n";
  static const std::string kEnd = "-- END PROG LOAD LOG --";
  for (auto it = logs.rbegin(); it != logs.rend(); ++it) {
    const std::string& m = it->message;
    size_t begin = m.find(kBegin);
    if (begin == std::string::npos) continue;
    size_t end = m.rfind(kEnd);
    if (end == std::string::npos || end < begin) end = m.size();
    size_t q1 = m.find("prog '");
    size_t q2 = q1 == std::string::npos ? std::string::npos : m.find("': ", q1 + 6);
    if (q1 != std::string::npos && q2 != std::string::npos && q2 < begin) *program = m.substr(q1 + 6, q2 - q1 - 6);
    *log = m.substr(begin + kBegin.size(), end - begin - kBegin.size());
    return true;
  }
  return false;
}

std::string OptionalString(Napi::Object options, const char* key) {
  Napi::Value v = options.Get(key);
  if (v.IsUndefined() || v.IsNull()) return std::string();
  if (!v.IsString()) throw Napi::TypeError::New(options.Env(), std::string("options.") + key + " must be a string");
  return v.As<Napi::String>().Utf8Value();
}

}  // namespace

void BpfObjectWrap::Init(Napi::Env env, Napi::Object exports, Addon* addon) {
  Napi::Function ctor = DefineClass(env, "NativeObject", {
      InstanceMethod<&BpfObjectWrap::JS_load>("load"),
      InstanceMethod<&BpfObjectWrap::JS_loadAsync>("loadAsync"),
      InstanceMethod<&BpfObjectWrap::JS_close>("close"),
      InstanceMethod<&BpfObjectWrap::JS_state>("state"),
      InstanceMethod<&BpfObjectWrap::JS_name>("name"),
      InstanceMethod<&BpfObjectWrap::JS_programs>("programs"),
      InstanceMethod<&BpfObjectWrap::JS_maps>("maps"),
      InstanceMethod<&BpfObjectWrap::JS_btf>("btf"),
      InstanceMethod<&BpfObjectWrap::JS_verifierLog>("verifierLog"),
  });
  addon->objectCtor = Napi::Persistent(ctor);
  exports.Set("NativeObject", ctor);
}

BpfObjectWrap::BpfObjectWrap(const Napi::CallbackInfo& info) : TaggedWrap<BpfObjectWrap>(info) {
  Napi::Env env = info.Env();
  Napi::Value source = args::At(info, 0);
  Napi::Value optionsValue = args::At(info, 1);
  if (!optionsValue.IsObject()) throw Napi::TypeError::New(env, "options must be an object");
  Napi::Object options = optionsValue.As<Napi::Object>();

  std::string objectName = OptionalString(options, "objectName");
  std::string pinRoot = OptionalString(options, "pinRoot");
  std::string kconfig = OptionalString(options, "kconfig");
  std::string btfCustomPath = OptionalString(options, "btfCustomPath");

  LIBBPF_OPTS(bpf_object_open_opts, opts);
  if (!objectName.empty()) opts.object_name = objectName.c_str();
  if (!pinRoot.empty()) opts.pin_root_path = pinRoot.c_str();
  if (!kconfig.empty()) opts.kconfig = kconfig.c_str();
  if (!btfCustomPath.empty()) opts.btf_custom_path = btfCustomPath.c_str();

  LogCapture capture;
  struct bpf_object* obj = nullptr;
  std::string op;
  if (source.IsString()) {
    std::string path = source.As<Napi::String>().Utf8Value();
    op = "bpf_object__open_file";
    obj = bpf_object__open_file(path.c_str(), &opts);
  } else {
    args::Bytes bytes = args::ByteView(info, 0, "source");
    if (bytes.length == 0) throw Napi::RangeError::New(env, "source is empty");
    // libbpf reads the image while opening; keep our own copy so the caller's buffer can change.
    elf_.assign(bytes.data, bytes.data + bytes.length);
    op = "bpf_object__open_mem";
    obj = bpf_object__open_mem(elf_.data(), elf_.size(), &opts);
  }
  int err = obj == nullptr ? -errno : 0;
  capture.Deliver(env);
  if (obj == nullptr) {
    BpfErrorDetails d;
    d.libbpfLog = capture.WarningLines();
    ThrowBpfError(env, op, err ? err : -EINVAL, d);
  }

  obj_ = obj;
  RegisterRoot(Addon::Get(env));
}

// Safety net only: JS is expected to call close(). A running load keeps the object alive
// through its reference, so the phase cannot be loading here.
BpfObjectWrap::~BpfObjectWrap() { Close(Cause::kFinalize); }

void BpfObjectWrap::Release(Cause cause, Napi::Env*) noexcept {
  // The written exception: libbpf uses the object until the load ends (FinishDeferredClose).
  if (phase_ == Phase::kLoading) {
    closeRequested_ = true;
    return;
  }
  CloseNow(cause == Cause::kClose ? &closeLogs_ : nullptr);
}

void BpfObjectWrap::CloseNow(std::vector<LogRecord>* logs) noexcept {
  if (obj_ == nullptr) return;
  try {
    LogCapture capture;
    bpf_object__close(obj_);
    if (logs != nullptr) *logs = capture.Take();
  } catch (...) {
    // Only the log's copy can fail (memory); the object is closed either way.
  }
  obj_ = nullptr;
  phase_ = Phase::kClosed;
  elf_.clear();
  elf_.shrink_to_fit();
  verifierLogs_.clear();
}

void BpfObjectWrap::FinishDeferredClose() {
  if (!closeRequested_) return;
  closeRequested_ = false;
  CloseNow(nullptr);  // the handle itself was closed (and its children) when close() was asked
}

void BpfObjectWrap::CheckUsable(Napi::Env env, const char* what) const {
  if (obj_ == nullptr) ThrowStateError(env, what, "object-closed");
  if (phase_ == Phase::kLoading) ThrowStateError(env, what, "object-loading");
}

void BpfObjectWrap::CheckConfigurable(Napi::Env env, const char* what) const {
  CheckUsable(env, what);
  if (phase_ == Phase::kFailed) ThrowStateError(env, what, "object-load-failed");
  if (phase_ != Phase::kOpened) ThrowStateError(env, what, "object-loaded");
}

BpfObjectWrap::LoadOptions BpfObjectWrap::ParseLoadOptions(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  LoadOptions o;
  Napi::Value v = info.Length() > 0 ? info[0] : env.Undefined();
  if (v.IsUndefined() || v.IsNull()) return o;
  if (!v.IsObject()) throw Napi::TypeError::New(env, "load options must be an object");
  Napi::Object opts = v.As<Napi::Object>();
  // lib/object.ts validates these; re-checked cheaply here.
  Napi::Value level = opts.Get("logLevel");
  if (!level.IsUndefined()) {
    if (!level.IsNumber()) throw Napi::TypeError::New(env, "logLevel must be a number");
    o.logLevel = level.As<Napi::Number>().Uint32Value();
  }
  Napi::Value size = opts.Get("logSize");
  if (!size.IsUndefined()) {
    if (!size.IsNumber()) throw Napi::TypeError::New(env, "logSize must be a number");
    o.logSize = size.As<Napi::Number>().Uint32Value();
  }
  if (o.logLevel > 0 && (o.logSize < 128 || o.logSize > kMaxLogSize))
    throw Napi::RangeError::New(env, "logSize must be in [128, 2^30) with a logLevel");
  return o;
}

BpfObjectWrap::LoadResult BpfObjectWrap::LoadOnAnyThread(struct bpf_object* obj, const LoadOptions& options) {
  LoadResult result;
  LogCapture capture;
  // logLevel 0: no buffer of ours. libbpf loads without a log and, when the kernel refuses a
  // program, loads it again with a log it grows on ENOSPC (up to the kernel's limit) and prints
  // it as a warning, which we take from the records. logLevel > 0: the caller asked for the log
  // of every program (BPF_LOG_STATS etc.), in buffers of the size they chose.
  std::vector<std::pair<struct bpf_program*, std::unique_ptr<char[]>>> logs;
  if (options.logLevel > 0) {
    struct bpf_program* prog;
    bpf_object__for_each_program(prog, obj) {
      if (!bpf_program__autoload(prog)) continue;
      std::unique_ptr<char[]> buf(new char[options.logSize]);
      buf[0] = '\0';
      bpf_program__set_log_level(prog, options.logLevel);
      bpf_program__set_log_buf(prog, buf.get(), options.logSize);
      logs.emplace_back(prog, std::move(buf));
    }
  }
  int err = bpf_object__load(obj);
  result.err = err < 0 ? err : 0;
  for (auto& entry : logs) {
    std::string text(entry.second.get(), strnlen(entry.second.get(), options.logSize));
    if (result.err != 0 && result.verifierLog.empty() && !text.empty()) {
      result.failedProgram = bpf_program__name(entry.first);
      result.verifierLog = text;
      result.logTruncated = result.err == -ENOSPC;
    }
    if (result.err == 0) result.programLogs.emplace_back(bpf_program__name(entry.first), std::move(text));
    bpf_program__set_log_buf(entry.first, nullptr, 0);
  }
  result.logs = capture.Take();
  if (result.err != 0 && result.verifierLog.empty()) FindLibbpfVerifierLog(result.logs, &result.failedProgram, &result.verifierLog);
  return result;
}

void BpfObjectWrap::FinishLoad(Napi::Env env, LoadResult& result) {
  // C state first: libbpf does not allow a second load attempt after a failed one.
  phase_ = result.err == 0 ? Phase::kLoaded : Phase::kFailed;
  if (result.err == 0) verifierLogs_ = std::move(result.programLogs);
  FinishDeferredClose();
  // libbpf's own reason for a failure, collected before any JS runs.
  std::vector<std::string> libbpfLog = result.err != 0 ? WarningLines(result.logs) : std::vector<std::string>{};
  // Then JS: the logger may close the object; nothing below reads this wrapper.
  DeliverLogRecords(env, result.logs);
  if (result.err != 0) {
    BpfErrorDetails details;
    details.libbpfLog = std::move(libbpfLog);
    if (result.logTruncated) {
      // Not a refusal: the log asked for with logLevel was larger than logSize.
      details.what = "verifier-log-truncated";
      details.Set("program", result.failedProgram);
    } else {
      details.program = result.failedProgram;
      details.verifierLog = result.verifierLog;
    }
    ThrowBpfError(env, "bpf_object__load", result.err, details);
  }
}

Napi::Value BpfObjectWrap::JS_load(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  LoadOptions options = ParseLoadOptions(info);
  CheckConfigurable(env, "load");
  LoadResult result = LoadOnAnyThread(obj_, options);
  FinishLoad(env, result);
  return env.Undefined();
}

// Runs bpf_object__load() on the libuv thread pool; the verifier can take seconds.
class BpfObjectWrap::LoadWorker : public Napi::AsyncWorker {
 public:
  LoadWorker(Napi::Env env, BpfObjectWrap* wrap, LoadOptions options)
      : Napi::AsyncWorker(env, "libbpf-node:load"), completion_(env), wrap_(wrap), options_(options) {
    // Input: the object, kept alive (and its JS owner reachable) until the load ends.
    self_ = Napi::Persistent(wrap->Value());
    obj_ = wrap->obj_;
  }
  Napi::Value Promise() { return completion_.Promise(); }

  void Execute() override { result_ = LoadOnAnyThread(obj_, options_); }

  // Also runs during environment teardown (see async.h): FinishLoad's C part always runs,
  // its JS part inside Settle.
  void OnOK() override {
    completion_.Settle([&]() -> Napi::Value {
      wrap_->FinishLoad(Env(), result_);
      return Env().Undefined();
    });
    // If Settle could not even start FinishLoad, the phase must still leave "loading".
    if (wrap_->phase_ == Phase::kLoading) {
      wrap_->phase_ = result_.err == 0 ? Phase::kLoaded : Phase::kFailed;
      wrap_->FinishDeferredClose();
    }
  }

 private:
  Completion completion_;
  BpfObjectWrap* wrap_;
  Napi::ObjectReference self_;
  struct bpf_object* obj_;
  LoadOptions options_;
  // Output.
  LoadResult result_;
};

Napi::Value BpfObjectWrap::JS_loadAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  LoadOptions options = ParseLoadOptions(info);
  CheckConfigurable(env, "load");
  auto* worker = new LoadWorker(env, this, options);
  phase_ = Phase::kLoading;
  Napi::Value promise = worker->Promise();
  worker->Queue();
  return promise;
}

Napi::Value BpfObjectWrap::JS_close(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  // The children first (a map's memory view is detached), then the libbpf object — or, during a
  // load, once it ends.
  Close(Cause::kClose, &env);
  std::vector<LogRecord> logs = std::move(closeLogs_);
  closeLogs_.clear();
  DeliverLogRecords(env, logs);  // JS last
  return env.Undefined();
}

// JS: verifierLog(program) -> the verifier's log of a program loaded with logLevel > 0, or null.
Napi::Value BpfObjectWrap::JS_verifierLog(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name = args::String(info, 0, "program");
  for (const auto& entry : verifierLogs_) {
    if (entry.first == name) return Napi::String::New(env, entry.second);
  }
  return env.Null();
}

Napi::Value BpfObjectWrap::JS_state(const Napi::CallbackInfo& info) {
  static const char* names[] = {"opened", "loading", "loaded", "failed", "closed"};
  const char* state = names[static_cast<int>(phase_)];
  if (phase_ == Phase::kLoading && closeRequested_) state = "closing";
  return Napi::String::New(info.Env(), state);
}

Napi::Value BpfObjectWrap::JS_name(const Napi::CallbackInfo& info) {
  CheckUsable(info.Env(), "read the object name");
  return Napi::String::New(info.Env(), bpf_object__name(obj_));
}

Napi::Value BpfObjectWrap::JS_programs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckUsable(env, "list programs");
  Napi::Array result = Napi::Array::New(env);
  uint32_t i = 0;
  struct bpf_program* prog;
  bpf_object__for_each_program(prog, obj_) {
    result.Set(i++, ProgramWrap::New(env, this, prog));
  }
  return result;
}

Napi::Value BpfObjectWrap::JS_maps(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckUsable(env, "list maps");
  Napi::Array result = Napi::Array::New(env);
  uint32_t i = 0;
  struct bpf_map* map;
  bpf_object__for_each_map(map, obj_) {
    result.Set(i++, MapWrap::NewFromObject(env, this, map));
  }
  return result;
}

Napi::Value BpfObjectWrap::JS_btf(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckUsable(env, "read BTF");
  struct btf* btf = bpf_object__btf(obj_);
  if (btf == nullptr) return env.Null();
  __u32 size = 0;
  const void* raw = btf__raw_data(btf, &size);
  if (raw == nullptr) ThrowBpfError(env, "btf__raw_data", -errno);
  return Napi::Buffer<uint8_t>::Copy(env, static_cast<const uint8_t*>(raw), size);
}
