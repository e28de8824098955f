// libbpf's log messages, delivered to the JS logger set with setLogger() and never to stderr.
//
// libbpf has one process-wide print callback, but it runs on whichever thread called libbpf.
// Each native operation opens a LogCapture on its own thread; the callback appends to the
// capture of the calling thread (or drops the message when there is none), and the operation
// hands the records to the JS logger on the main thread once it is done: synchronously for sync
// calls, in OnOK/OnError for async work.
#pragma once

#include <napi.h>
#include <string>
#include <vector>

struct LogRecord {
  int level;  // enum libbpf_print_level: 0 warn, 1 info, 2 debug
  std::string message;
};

class LogCapture {
 public:
  LogCapture();
  ~LogCapture();
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  // Takes the records collected so far.
  std::vector<LogRecord> Take();
  // Sends the records collected so far to the JS logger (main thread only). The records stay, so
  // that a failing call can still put libbpf's reason into its error (WarningLines()).
  void Deliver(Napi::Env env);
  // The warnings and info lines captured so far: libbpf's own reason for a failure.
  std::vector<std::string> WarningLines() const;

  void Append(int level, std::string message);

 private:
  std::vector<LogRecord> records_;
  LogCapture* previous_;
};

// The warning and info lines of `records` (debug lines left out), at most the last `max`.
std::vector<std::string> WarningLines(const std::vector<LogRecord>& records, size_t max = 8);

// Installs libbpf's print callback (once per process).
void InstallLibbpfLogHook();

// Sends records to the JS logger, if one is set (main thread only).
void DeliverLogRecords(Napi::Env env, std::vector<LogRecord>& records);

// JS: setLogger(fn | null)
Napi::Value JS_setLogger(const Napi::CallbackInfo& info);
