// The one place that turns a failed libbpf or kernel call into a JS BpfError, and misuse of a
// handle in the wrong phase into a BpfStateError.
//
// Facts down, words up: native code reports what happened — the operation, the errno, and a
// `what` code with its context (paths, ids, interfaces, modes, what is attached) — and
// lib/errors.ts writes every sentence a user reads, once. lib/internal/native.ts registers the
// two factories with the addon, so every error thrown from here is a real BpfError or
// BpfStateError (instanceof works).
#pragma once

#include <napi.h>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

// One program attached to an interface, as the kernel reports it.
struct AttachedProgram {
  uint32_t id;
  std::string name;
  std::string mode;  // "native", "skb", "hw"
};

// The facts of a failure. `what` names what was being done, as a code lib/errors.ts knows
// ("pin", "open-pinned", "xdp-attach", …); the rest is its context.
struct BpfErrorDetails {
  std::string what;
  std::string program;      // the program concerned, when known
  std::string verifierLog;  // the kernel verifier's log, when a load was refused
  // libbpf's own warnings during the failing call (LogCapture::WarningLines): its reason, kept
  // in the error even when no logger is set.
  std::vector<std::string> libbpfLog;
  std::vector<std::pair<std::string, std::string>> strings;
  std::vector<std::pair<std::string, double>> numbers;
  std::vector<AttachedProgram> attached;
  bool hasAttached = false;

  BpfErrorDetails() = default;
  explicit BpfErrorDetails(std::string w) : what(std::move(w)) {}
  BpfErrorDetails& Set(const char* key, const std::string& value) {
    strings.emplace_back(key, value);
    return *this;
  }
  BpfErrorDetails& Set(const char* key, const char* value) { return Set(key, std::string(value)); }
  BpfErrorDetails& Set(const char* key, double value) {
    numbers.emplace_back(key, value);
    return *this;
  }
  BpfErrorDetails& Set(const char* key, int value) { return Set(key, static_cast<double>(value)); }
  BpfErrorDetails& Set(const char* key, unsigned value) { return Set(key, static_cast<double>(value)); }
  BpfErrorDetails& Set(const char* key, long value) { return Set(key, static_cast<double>(value)); }
  BpfErrorDetails& Set(const char* key, unsigned long value) { return Set(key, static_cast<double>(value)); }
  BpfErrorDetails& Set(const char* key, long long value) { return Set(key, static_cast<double>(value)); }
  BpfErrorDetails& Set(const char* key, unsigned long long value) { return Set(key, static_cast<double>(value)); }
};

// Builds the BpfError for `op` failing with `err` (a negative or positive errno).
Napi::Value MakeBpfError(Napi::Env env, const std::string& op, int err,
                         const BpfErrorDetails& details = {});

// Throws the BpfError for `op` failing with `err`. Never returns.
[[noreturn]] void ThrowBpfError(Napi::Env env, const std::string& op, int err,
                                const BpfErrorDetails& details = {});

// Throws a BpfStateError: `action` is what the caller tried ("attach a program"), `state` a code
// lib/errors.ts words ("object-closed", "map-closed", "object-not-loaded", …), `facts` its
// context (names, paths).
[[noreturn]] void ThrowStateError(Napi::Env env, const std::string& action, const char* state,
                                  const BpfErrorDetails& facts = {});
