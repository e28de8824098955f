// Checks for paths where programs and links get pinned: absolute, without `..`, in a bpffs folder.
#pragma once

#include <napi.h>
#include <sys/vfs.h>

#include <cerrno>
#include <string>

#include "errors.h"

namespace pin {

constexpr long kBpffsMagic = 0xcafe4a11;  // BPF_FS_MAGIC

// Throws a RangeError for a path that is not absolute or contains `..`, a BpfError when its
// folder cannot be inspected, and a RangeError when the folder is not on a bpffs mount.
inline void CheckPath(Napi::Env env, const std::string& path) {
  if (path.empty() || path[0] != '/') throw Napi::RangeError::New(env, "pin path must be absolute (inside a bpffs mount such as /sys/fs/bpf), got '" + path + "'");
  if (path.find("/../") != std::string::npos || (path.size() >= 3 && path.compare(path.size() - 3, 3, "/..") == 0))
    throw Napi::RangeError::New(env, "pin path must not contain '..', got '" + path + "'");
  std::string dir = path.substr(0, path.find_last_of('/'));
  if (dir.empty()) dir = "/";
  struct statfs st;
  if (statfs(dir.c_str(), &st) != 0) {
    BpfErrorDetails d;
    d.detail = "the folder of pin path '" + path + "' cannot be inspected";
    ThrowBpfError(env, "statfs", -errno, d);
  }
  if (static_cast<long>(st.f_type) != kBpffsMagic)
    throw Napi::RangeError::New(env, "pin path '" + path + "' is not inside a bpffs mount (such as /sys/fs/bpf)");
}

}  // namespace pin
