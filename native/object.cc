#include "object.h"

#include <bpf/btf.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "addon.h"
#include "args.h"
#include "errors.h"
#include "log.h"
#include "map.h"
#include "program.h"

namespace {

// Verifier log buffer per program during a load. Pages that the kernel does not write are never
// touched, so a large buffer costs address space, not memory.
constexpr size_t kVerifierLogSize = 4 << 20;

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
  addon_ = Addon::Get(env);
  addon_->liveObjects.insert(this);
}

BpfObjectWrap::~BpfObjectWrap() {
  // Safety net only: JS is expected to call close(). A running load keeps the object alive
  // through its reference, so busy_ cannot be set here.
  CloseNow();
  for (CloseListener* l : closeListeners_) l->OwnerGone();
  if (addon_ != nullptr) addon_->liveObjects.erase(this);
}

void BpfObjectWrap::CloseNow() {
  if (obj_ == nullptr || busy_) return;
  bpf_object__close(obj_);
  obj_ = nullptr;
  elf_.clear();
  elf_.shrink_to_fit();
}

void BpfObjectWrap::CheckUsable(Napi::Env env, const char* what) const {
  if (obj_ == nullptr) ThrowStateError(env, std::string("cannot ") + what + ": the BPF object is closed");
  if (busy_) ThrowStateError(env, std::string("cannot ") + what + ": the BPF object is being loaded");
}

void BpfObjectWrap::CheckConfigurable(Napi::Env env, const char* what) const {
  CheckUsable(env, what);
  if (loaded_) ThrowStateError(env, std::string("cannot ") + what + ": the BPF object is already loaded (configure before load())");
}

BpfObjectWrap::LoadResult BpfObjectWrap::LoadOnAnyThread(struct bpf_object* obj) {
  LoadResult result;
  // A log buffer per program, so that a refused program's verifier log is ours to report.
  std::vector<std::pair<struct bpf_program*, std::unique_ptr<char[]>>> logs;
  struct bpf_program* prog;
  bpf_object__for_each_program(prog, obj) {
    if (!bpf_program__autoload(prog)) continue;
    std::unique_ptr<char[]> buf(new char[kVerifierLogSize]);
    buf[0] = '\0';
    bpf_program__set_log_buf(prog, buf.get(), kVerifierLogSize);
    logs.emplace_back(prog, std::move(buf));
  }
  int err = bpf_object__load(obj);
  result.err = err < 0 ? err : 0;
  for (auto& entry : logs) {
    if (result.err != 0 && result.verifierLog.empty() && entry.second[0] != '\0') {
      result.failedProgram = bpf_program__name(entry.first);
      result.verifierLog.assign(entry.second.get(), strnlen(entry.second.get(), kVerifierLogSize));
    }
    bpf_program__set_log_buf(entry.first, nullptr, 0);
  }
  return result;
}

void BpfObjectWrap::FinishLoad(Napi::Env env, const LoadResult& result, const std::vector<std::string>& libbpfLog) {
  if (result.err != 0) {
    BpfErrorDetails details;
    details.libbpfLog = libbpfLog;
    details.program = result.failedProgram;
    details.verifierLog = result.verifierLog;
    ThrowBpfError(env, "bpf_object__load", result.err, details);
  }
  loaded_ = true;
}

Napi::Value BpfObjectWrap::JS_load(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckConfigurable(env, "load");
  LogCapture capture;
  LoadResult result = LoadOnAnyThread(obj_);
  capture.Deliver(env);
  // libbpf does not allow a second load attempt after a failed one: mark it loaded either way.
  loaded_ = true;
  FinishLoad(env, result, capture.WarningLines());
  return env.Undefined();
}

// Runs bpf_object__load() on the libuv thread pool; the verifier can take seconds.
class BpfObjectWrap::LoadWorker : public Napi::AsyncWorker {
 public:
  LoadWorker(Napi::Env env, BpfObjectWrap* wrap)
      : Napi::AsyncWorker(env, "libbpf-node:load"), deferred_(Napi::Promise::Deferred::New(env)), wrap_(wrap) {
    // Input: the object, kept alive (and its JS owner reachable) until the load ends.
    self_ = Napi::Persistent(wrap->Value());
    obj_ = wrap->obj_;
  }
  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override {
    LogCapture capture;
    result_ = LoadOnAnyThread(obj_);
    logs_ = capture.Take();
  }

  void OnOK() override {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    DeliverLogRecords(env, logs_);
    wrap_->busy_ = false;
    wrap_->loaded_ = true;
    try {
      wrap_->FinishLoad(env, result_, WarningLines(logs_));
      deferred_.Resolve(env.Undefined());
    } catch (const Napi::Error& e) {
      deferred_.Reject(e.Value());
    }
    if (wrap_->closeRequested_) wrap_->CloseNow();
  }

 private:
  Napi::Promise::Deferred deferred_;
  BpfObjectWrap* wrap_;
  Napi::ObjectReference self_;
  struct bpf_object* obj_;
  // Output.
  LoadResult result_;
  std::vector<LogRecord> logs_;
};

Napi::Value BpfObjectWrap::JS_loadAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckConfigurable(env, "load");
  auto* worker = new LoadWorker(env, this);
  busy_ = true;
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

Napi::Value BpfObjectWrap::JS_close(const Napi::CallbackInfo& info) {
  if (busy_) {
    closeRequested_ = true;
  } else {
    // Copy: a listener may remove itself while being told.
    std::vector<CloseListener*> listeners(closeListeners_.begin(), closeListeners_.end());
    for (CloseListener* l : listeners) l->OwnerClosing(info.Env());
    CloseNow();
  }
  return info.Env().Undefined();
}

Napi::Value BpfObjectWrap::JS_state(const Napi::CallbackInfo& info) {
  const char* state = obj_ == nullptr ? "closed" : busy_ ? "loading" : loaded_ ? "loaded" : "opened";
  if (obj_ != nullptr && closeRequested_) state = "closing";
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
