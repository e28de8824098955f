#include "map.h"

#include <linux/bpf.h>
#include <bpf/bpf.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "addon.h"
#include "args.h"
#include "errors.h"
#include "kinds.h"

namespace {

// Whether libbpf maps .data/.bss onto the kernel's memory at bpf_object__load() (1.5 does, in
// bpf_object__create_maps; older releases only did it for skeletons).
bool LoadMapsKernelMemory() {
  return libbpf_major_version() > 1 || libbpf_minor_version() >= 5;
}

// The kernel's memory of a loaded internal map, mapped into this process, or nullptr.
uint8_t* KernelMemory(struct bpf_map* map) {
  size_t size = 0;
  const void* mem = bpf_map__initial_value(map, &size);
  if (mem == nullptr || !LoadMapsKernelMemory() || !(bpf_map__map_flags(map) & BPF_F_MMAPABLE)) return nullptr;
  return static_cast<uint8_t*>(const_cast<void*>(mem));
}

}  // namespace

void MapWrap::Init(Napi::Env env, Napi::Object exports, Addon* addon) {
  Napi::Function ctor = DefineClass(env, "NativeMap", {
      InstanceMethod<&MapWrap::JS_info>("info"),
      InstanceMethod<&MapWrap::JS_setMaxEntries>("setMaxEntries"),
      InstanceMethod<&MapWrap::JS_setKeySize>("setKeySize"),
      InstanceMethod<&MapWrap::JS_setValueSize>("setValueSize"),
      InstanceMethod<&MapWrap::JS_setFlags>("setFlags"),
      InstanceMethod<&MapWrap::JS_setPinPath>("setPinPath"),
      InstanceMethod<&MapWrap::JS_setAutocreate>("setAutocreate"),
      InstanceMethod<&MapWrap::JS_kernelInfo>("kernelInfo"),
      InstanceMethod<&MapWrap::JS_readValue>("readValue"),
      InstanceMethod<&MapWrap::JS_writeValue>("writeValue"),
  });
  addon->mapCtor = Napi::Persistent(ctor);
  exports.Set("NativeMap", ctor);
}

Napi::Object MapWrap::NewFromObject(Napi::Env env, BpfObjectWrap* owner, struct bpf_map* map) {
  Napi::Object obj = Addon::Get(env)->mapCtor.New({});
  MapWrap* wrap = Unwrap(obj);
  wrap->Bind(owner);
  wrap->map_ = map;
  return obj;
}

MapWrap::MapWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<MapWrap>(info) {}

int MapWrap::Fd(Napi::Env env, const char* what) const {
  CheckLoaded(env, what);
  int fd = bpf_map__fd(map_);
  if (fd < 0) {
    ThrowStateError(env, std::string("cannot ") + what + ": map '" + bpf_map__name(map_) +
                                    "' was not created (autocreate was off)");
  }
  return fd;
}

Napi::Value MapWrap::JS_info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckUsable(env, "describe a map");
  Napi::Object out = Napi::Object::New(env);
  const char* name = bpf_map__name(map_);
  out.Set("name", name);
  bool internal = bpf_map__is_internal(map_);
  out.Set("internal", internal);
  // An internal map's name is "<object prefix>.<section>"; the section is what BTF calls it.
  const char* dot = internal ? strchr(name, '.') : nullptr;
  if (dot != nullptr) out.Set("section", dot);
  out.Set("type", kinds::MapType(bpf_map__type(map_)));
  out.Set("keySize", bpf_map__key_size(map_));
  out.Set("valueSize", bpf_map__value_size(map_));
  out.Set("maxEntries", bpf_map__max_entries(map_));
  out.Set("flags", static_cast<double>(bpf_map__map_flags(map_)));
  out.Set("fd", bpf_map__fd(map_));
  out.Set("btfKeyTypeId", bpf_map__btf_key_type_id(map_));
  out.Set("btfValueTypeId", bpf_map__btf_value_type_id(map_));
  const char* pin = bpf_map__pin_path(map_);
  if (pin != nullptr) out.Set("pinPath", pin);
  out.Set("pinned", bpf_map__is_pinned(map_));
  size_t size = 0;
  out.Set("hasInitialValue", bpf_map__initial_value(map_, &size) != nullptr);
  return out;
}

#define MAP_SETTER(JsName, what, libbpfCall)                                   \
  Napi::Value MapWrap::JsName(const Napi::CallbackInfo& info) {                \
    Napi::Env env = info.Env();                                                \
    uint32_t value = args::Uint32(info, 0, what);                              \
    CheckConfigurable(env, "set " what);                                       \
    int err = libbpfCall(map_, value);                                         \
    if (err) ThrowBpfError(env, #libbpfCall, err);                             \
    return env.Undefined();                                                    \
  }

MAP_SETTER(JS_setMaxEntries, "maxEntries", bpf_map__set_max_entries)
MAP_SETTER(JS_setKeySize, "keySize", bpf_map__set_key_size)
MAP_SETTER(JS_setValueSize, "valueSize", bpf_map__set_value_size)
MAP_SETTER(JS_setFlags, "flags", bpf_map__set_map_flags)

#undef MAP_SETTER

Napi::Value MapWrap::JS_setPinPath(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Value v = args::At(info, 0);
  std::string path = v.IsNull() || v.IsUndefined() ? std::string() : args::String(info, 0, "pinPath");
  CheckConfigurable(env, "set the pin path");
  int err = bpf_map__set_pin_path(map_, path.empty() ? nullptr : path.c_str());
  if (err) ThrowBpfError(env, "bpf_map__set_pin_path", err);
  return env.Undefined();
}

Napi::Value MapWrap::JS_setAutocreate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bool on = args::Bool(info, 0, "autocreate");
  CheckConfigurable(env, "set autocreate");
  int err = bpf_map__set_autocreate(map_, on);
  if (err) ThrowBpfError(env, "bpf_map__set_autocreate", err);
  return env.Undefined();
}

Napi::Value MapWrap::JS_kernelInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = Fd(env, "read map info");
  struct bpf_map_info mi;
  memset(&mi, 0, sizeof(mi));
  __u32 len = sizeof(mi);
  if (bpf_obj_get_info_by_fd(fd, &mi, &len) != 0) ThrowBpfError(env, "bpf_obj_get_info_by_fd", -errno);
  Napi::Object out = Napi::Object::New(env);
  out.Set("id", mi.id);
  out.Set("name", mi.name);
  out.Set("type", kinds::MapType(static_cast<enum bpf_map_type>(mi.type)));
  out.Set("keySize", mi.key_size);
  out.Set("valueSize", mi.value_size);
  out.Set("maxEntries", mi.max_entries);
  out.Set("flags", static_cast<double>(mi.map_flags));
  out.Set("btfId", mi.btf_id);
  out.Set("btfKeyTypeId", mi.btf_key_type_id);
  out.Set("btfValueTypeId", mi.btf_value_type_id);
  return out;
}

Napi::Value MapWrap::JS_readValue(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t offset = args::Uint32(info, 0, "offset");
  uint32_t length = args::Uint32(info, 1, "length");
  CheckUsable(env, "read a global variable");
  uint32_t valueSize = bpf_map__value_size(map_);
  if (static_cast<uint64_t>(offset) + length > valueSize) throw Napi::RangeError::New(env, "read past the end of the map value");
  if (!owner()->IsLoaded()) {
    size_t size = 0;
    const void* image = bpf_map__initial_value(map_, &size);
    if (image == nullptr || static_cast<uint64_t>(offset) + length > size)
      ThrowStateError(env, std::string("map '") + bpf_map__name(map_) + "' has no initial value to read");
    return Napi::Buffer<uint8_t>::Copy(env, static_cast<const uint8_t*>(image) + offset, length);
  }
  // After load: the kernel's memory, mapped into this process; else (libbpf < 1.5, whose
  // image is a stale copy) one lookup.
  if (uint8_t* mem = KernelMemory(map_)) return Napi::Buffer<uint8_t>::Copy(env, mem + offset, length);
  int fd = Fd(env, "read a global variable");
  std::vector<uint8_t> value(valueSize);
  __u32 key = 0;
  if (bpf_map_lookup_elem(fd, &key, value.data()) != 0) ThrowBpfError(env, "bpf_map_lookup_elem", -errno);
  return Napi::Buffer<uint8_t>::Copy(env, value.data() + offset, length);
}

Napi::Value MapWrap::JS_writeValue(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t offset = args::Uint32(info, 0, "offset");
  args::Bytes bytes = args::ByteView(info, 1, "bytes");
  CheckUsable(env, "write a global variable");
  uint32_t valueSize = bpf_map__value_size(map_);
  if (static_cast<uint64_t>(offset) + bytes.length > valueSize) throw Napi::RangeError::New(env, "write past the end of the map value");
  if (!owner()->IsLoaded()) {
    size_t size = 0;
    // libbpf < 1.3 declares the result const; before load it is libbpf's writable image.
    void* image = const_cast<void*>(static_cast<const void*>(bpf_map__initial_value(map_, &size)));
    if (image == nullptr || static_cast<uint64_t>(offset) + bytes.length > size)
      ThrowStateError(env, std::string("map '") + bpf_map__name(map_) + "' has no initial value to write");
    memcpy(static_cast<uint8_t*>(image) + offset, bytes.data, bytes.length);
    return env.Undefined();
  }
  if (bpf_map__map_flags(map_) & BPF_F_RDONLY_PROG) {
    // .rodata and .kconfig are frozen at load.
    ThrowStateError(env, std::string("cannot write map '") + bpf_map__name(map_) +
                             "': it is read-only after load (set .rodata before load())");
  }
  // Only this variable's bytes, straight into the kernel's memory: no other variable is touched.
  if (uint8_t* mem = KernelMemory(map_)) {
    memcpy(mem + offset, bytes.data, bytes.length);
    return env.Undefined();
  }
  // libbpf < 1.5: read-modify-write of the whole section, which can undo an update the program
  // makes to a neighbouring variable in between (documented in lib/globals.ts).
  int fd = Fd(env, "write a global variable");
  std::vector<uint8_t> value(valueSize);
  __u32 key = 0;
  if (bpf_map_lookup_elem(fd, &key, value.data()) != 0) ThrowBpfError(env, "bpf_map_lookup_elem", -errno);
  memcpy(value.data() + offset, bytes.data, bytes.length);
  if (bpf_map_update_elem(fd, &key, value.data(), BPF_ANY) != 0) ThrowBpfError(env, "bpf_map_update_elem", -errno);
  return env.Undefined();
}
