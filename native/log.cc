#include "log.h"

#include <bpf/libbpf.h>
#include <cstdarg>
#include <cstdio>
#include <mutex>

#include "addon.h"
#include "internal/netns.h"

namespace {

thread_local LogCapture* tls_capture = nullptr;

int PrintCallback(enum libbpf_print_level level, const char* format, va_list args) {
  LogCapture* capture = tls_capture;
  if (capture == nullptr) return 0;
  char small[512];
  va_list copy;
  va_copy(copy, args);
  int n = vsnprintf(small, sizeof(small), format, copy);
  va_end(copy);
  if (n < 0) return 0;
  std::string message;
  if (static_cast<size_t>(n) < sizeof(small)) {
    message.assign(small, n);
  } else {
    message.resize(n + 1);
    vsnprintf(&message[0], message.size(), format, args);
    message.resize(n);
  }
  while (!message.empty() && message.back() == '\n') message.pop_back();
  capture->Append(static_cast<int>(level), std::move(message));
  return n;
}

}  // namespace

LogCapture::LogCapture() : previous_(tls_capture) { tls_capture = this; }
LogCapture::~LogCapture() { tls_capture = previous_; }

void LogCapture::Append(int level, std::string message) {
  records_.push_back({level, std::move(message)});
}

std::vector<LogRecord> LogCapture::Take() { return std::move(records_); }

void LogCapture::Deliver(Napi::Env env) {
  std::vector<LogRecord> records = records_;
  DeliverLogRecords(env, records);
}

std::vector<std::string> LogCapture::WarningLines() const { return ::WarningLines(records_); }

std::vector<std::string> WarningLines(const std::vector<LogRecord>& records, size_t max) {
  std::vector<std::string> lines;
  for (const LogRecord& r : records) {
    if (r.level <= LIBBPF_INFO && !r.message.empty()) lines.push_back(r.message);
  }
  if (lines.size() > max) lines.erase(lines.begin(), lines.end() - max);
  return lines;
}

void InstallLibbpfLogHook() {
  static std::once_flag once;
  std::call_once(once, [] { libbpf_set_print(PrintCallback); });
}

void DeliverLogRecords(Napi::Env env, std::vector<LogRecord>& records) {
  Addon* addon = Addon::Get(env);
  if (records.empty() || addon == nullptr || addon->logger.IsEmpty()) return;
  // A boundary: the logger runs in the caller's namespace (see NetnsScope::LeaveBeforeJs).
  NetnsScope::LeaveBeforeJs();
  static const char* names[] = {"warn", "info", "debug"};
  for (const LogRecord& r : records) {
    const char* name = (r.level >= 0 && r.level <= 2) ? names[r.level] : "debug";
    // A throwing logger must not turn a successful libbpf call into a failure: drop its error.
    try {
      addon->logger.Value().Call({Napi::String::New(env, name), Napi::String::New(env, r.message)});
    } catch (const Napi::Error&) {
    }
    // The logger may have removed itself (setLogger(null)): the reference is gone then.
    if (addon->logger.IsEmpty()) break;
  }
}

Napi::Value JS_setLogger(const Napi::CallbackInfo& info) {
  Addon* addon = Addon::Get(info.Env());
  Napi::Value fn = info.Length() > 0 ? info[0] : info.Env().Null();
  if (fn.IsNull() || fn.IsUndefined()) {
    addon->logger.Reset();
  } else if (fn.IsFunction()) {
    addon->logger = Napi::Persistent(fn.As<Napi::Function>());
  } else {
    throw Napi::TypeError::New(info.Env(), "logger must be a function or null");
  }
  return info.Env().Undefined();
}
