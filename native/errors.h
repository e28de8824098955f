// The one place that turns a failed libbpf or kernel call into a JS BpfError.
//
// The error class lives in lib/errors.ts; lib/internal/native.ts registers a factory
// (op, errno, details) => Error with the addon, so that every error thrown from here is a real
// BpfError (instanceof works, and the message, code name and hints are written in one place).
#pragma once

#include <napi.h>
#include <string>
#include <vector>

// Details some operations attach to their error.
struct BpfErrorDetails {
  std::string program;     // the program being loaded, when known
  std::string verifierLog; // the kernel verifier's log, when a load was refused
  std::string detail;      // free text appended to the message
  // libbpf's own warnings during the failing call (LogCapture::WarningLines): its reason, kept
  // in the error even when no logger is set.
  std::vector<std::string> libbpfLog;
};

// Builds the BpfError for `op` failing with `err` (a negative or positive errno).
Napi::Value MakeBpfError(Napi::Env env, const std::string& op, int err,
                         const BpfErrorDetails& details = {});

// Throws the BpfError for `op` failing with `err`. Never returns.
[[noreturn]] void ThrowBpfError(Napi::Env env, const std::string& op, int err,
                                const BpfErrorDetails& details = {});

// Throws an Error for misuse the native side detects itself (closed handle, wrong phase).
[[noreturn]] void ThrowStateError(Napi::Env env, const std::string& message);
