// Checks for paths where programs and links get pinned (absolute, without `..`, in a bpffs
// folder), and telling what a pinned fd is.
#pragma once

#include <napi.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "../errors.h"

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
    int err = -errno;  // before building strings, which may change errno
    BpfErrorDetails d("pin-folder");
    d.Set("path", path);
    ThrowBpfError(env, "statfs", err, d);
  }
  if (static_cast<long>(st.f_type) != kBpffsMagic)
    throw Napi::RangeError::New(env, "pin path '" + path + "' is not inside a bpffs mount (such as /sys/fs/bpf)");
}

}  // namespace pin

namespace bpffs {

// What a BPF fd is: "prog", "map", "link" (from its anon inode, "anon_inode:bpf-prog"), or
// "object" when it cannot tell.
inline std::string FdKind(int fd) {
  char link[64];
  std::string proc = "/proc/self/fd/" + std::to_string(fd);
  ssize_t n = readlink(proc.c_str(), link, sizeof(link) - 1);
  if (n <= 0) return "object";
  std::string target(link, n);
  const std::string prefix = "anon_inode:bpf-";
  if (target.compare(0, prefix.size(), prefix) != 0) return "object";
  return target.substr(prefix.size());
}

}  // namespace bpffs
