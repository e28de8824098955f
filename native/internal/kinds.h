// Names of BPF program, attach and map types, as libbpf spells them ('xdp', 'percpu_array').
#pragma once

#include <bpf/libbpf.h>
#include <string>
#include <vector>

namespace kinds {

inline std::string ProgType(enum bpf_prog_type t) {
  const char* s = libbpf_bpf_prog_type_str(t);
  return s ? s : "unknown(" + std::to_string(static_cast<int>(t)) + ")";
}
inline std::string AttachType(enum bpf_attach_type t) {
  const char* s = libbpf_bpf_attach_type_str(t);
  return s ? s : "unknown(" + std::to_string(static_cast<int>(t)) + ")";
}
inline std::string MapType(enum bpf_map_type t) {
  const char* s = libbpf_bpf_map_type_str(t);
  return s ? s : "unknown(" + std::to_string(static_cast<int>(t)) + ")";
}

// Reverse look-ups: -1 when the name is unknown to this libbpf.
template <typename Fn>
inline int Find(const std::string& name, Fn str) {
  for (int i = 0; i < 256; i++) {
    const char* s = str(i);
    if (s != nullptr && name == s) return i;
  }
  return -1;
}
inline int FindProgType(const std::string& name) {
  return Find(name, [](int i) { return libbpf_bpf_prog_type_str(static_cast<enum bpf_prog_type>(i)); });
}
inline int FindAttachType(const std::string& name) {
  return Find(name, [](int i) { return libbpf_bpf_attach_type_str(static_cast<enum bpf_attach_type>(i)); });
}
inline int FindMapType(const std::string& name) {
  return Find(name, [](int i) { return libbpf_bpf_map_type_str(static_cast<enum bpf_map_type>(i)); });
}

// Every name this libbpf knows, in enum order.
inline std::vector<std::string> ProgTypeNames() {
  std::vector<std::string> out;
  for (int i = 0; i < 256; i++)
    if (const char* s = libbpf_bpf_prog_type_str(static_cast<enum bpf_prog_type>(i))) out.push_back(s);
  return out;
}
inline std::vector<std::string> MapTypeNames() {
  std::vector<std::string> out;
  for (int i = 0; i < 256; i++)
    if (const char* s = libbpf_bpf_map_type_str(static_cast<enum bpf_map_type>(i))) out.push_back(s);
  return out;
}

}  // namespace kinds
