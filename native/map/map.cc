#include "map.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "../addon.h"
#include "../internal/args.h"
#include "../errors.h"
#include "../internal/pin.h"
#include "../internal/kinds.h"
#include "../internal/netns.h"
#include "../log.h"

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

bool IsPerCpu(uint32_t type) {
  return type == BPF_MAP_TYPE_PERCPU_HASH || type == BPF_MAP_TYPE_PERCPU_ARRAY ||
         type == BPF_MAP_TYPE_LRU_PERCPU_HASH || type == BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE;
}

uint32_t RoundUp8(uint32_t n) { return (n + 7) & ~7u; }

int PossibleCpus() {
  int n = libbpf_num_possible_cpus();
  return n > 0 ? n : 1;
}

// What the kernel says about a map fd, as the JS object `MapKernelInfo`.
Napi::Object KernelInfoObject(Napi::Env env, const struct bpf_map_info& mi) {
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

int GetInfo(int fd, struct bpf_map_info* mi) {
  memset(mi, 0, sizeof(*mi));
  __u32 len = sizeof(*mi);
  return bpf_obj_get_info_by_fd(fd, mi, &len);
}

// A byte view of at least `min` bytes.
args::Bytes SizedBytes(const Napi::CallbackInfo& info, size_t i, const char* name, uint64_t min) {
  args::Bytes b = args::ByteView(info, i, name);
  if (b.length < min) {
    throw Napi::RangeError::New(info.Env(), std::string(name) + " must hold at least " + std::to_string(min) +
                                                " bytes, got " + std::to_string(b.length));
  }
  return b;
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
      InstanceMethod<&MapWrap::JS_reuseFd>("reuseFd"),
      InstanceMethod<&MapWrap::JS_kernelInfo>("kernelInfo"),
      InstanceMethod<&MapWrap::JS_btf>("btf"),
      InstanceMethod<&MapWrap::JS_fd>("fd"),
      InstanceMethod<&MapWrap::JS_readValue>("readValue"),
      InstanceMethod<&MapWrap::JS_writeValue>("writeValue"),
      InstanceMethod<&MapWrap::JS_bindOps>("bindOps"),
      InstanceMethod<&MapWrap::JS_lookupBatch>("lookupBatch"),
      InstanceMethod<&MapWrap::JS_updateBatch>("updateBatch"),
      InstanceMethod<&MapWrap::JS_deleteBatch>("deleteBatch"),
      InstanceMethod<&MapWrap::JS_freeze>("freeze"),
      InstanceMethod<&MapWrap::JS_pin>("pin"),
      InstanceMethod<&MapWrap::JS_unpin>("unpin"),
      InstanceMethod<&MapWrap::JS_mmap>("mmap"),
      InstanceMethod<&MapWrap::JS_close>("close"),
      InstanceMethod<&MapWrap::JS_closed>("closed"),
  });
  addon->mapCtor = Napi::Persistent(ctor);
  exports.Set("NativeMap", ctor);
  exports.Set("openPinnedMap", Napi::Function::New<JS_openPinned>(env, "openPinnedMap"));
  exports.Set("openMapById", Napi::Function::New<JS_openById>(env, "openMapById"));
  exports.Set("createMap", Napi::Function::New<JS_create>(env, "createMap"));
  exports.Set("mapInfoByFd", Napi::Function::New<JS_infoByFd>(env, "mapInfoByFd"));
  exports.Set("numPossibleCpus", Napi::Function::New<JS_numPossibleCpus>(env, "numPossibleCpus"));
}

Napi::Object MapWrap::NewFromObject(Napi::Env env, BpfObjectWrap* owner, struct bpf_map* map) {
  Napi::Object obj = Addon::Get(env)->mapCtor.New({});
  MapWrap* wrap = Unwrap(obj);
  wrap->Bind(owner);
  wrap->map_ = map;
  return obj;
}

MapWrap::MapWrap(const Napi::CallbackInfo& info) : TaggedWrap<MapWrap>(info) {}

// Safety net only: JS is expected to close a standalone map.
MapWrap::~MapWrap() { Close(Cause::kFinalize); }

void MapWrap::Release(Cause, Napi::Env*) noexcept {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
}

void MapWrap::CheckGlobalsMap(Napi::Env env, const char* what) const {
  // Only .data/.bss/.rodata/.kconfig hold one value of value_size bytes under key 0: on another
  // map (a per-CPU one returns value_size x CPUs bytes) the lookup below would overrun its buffer.
  if (!bpf_map__is_internal(map_)) {
    throw Napi::TypeError::New(env, std::string("cannot ") + what + ": map '" + bpf_map__name(map_) +
                                        "' is not a global-variable section (.data, .bss, .rodata, .kconfig)");
  }
}

void MapWrap::CheckObjectMap(Napi::Env env, const char* what) const {
  if (standalone_) {
    ThrowStateError(env, what, "map-standalone");
  }
}

int MapWrap::Fd(Napi::Env env, const char* what) const {
  if (standalone_) {
    if (fd_ < 0) ThrowStateError(env, what, "map-closed");
    return fd_;
  }
  CheckLoaded(env, what);
  int fd = bpf_map__fd(map_);
  if (fd < 0) {
    ThrowStateError(env, what, "map-not-autocreated", BpfErrorDetails().Set("name", bpf_map__name(map_)));
  }
  return fd;
}

void MapWrap::LoadSizes(Napi::Env env) {
  if (sized_) return;
  Fd(env, "access the map");
  if (standalone_) {
    type_ = kinfo_.type;
    keySize_ = kinfo_.key_size;
    valueSize_ = kinfo_.value_size;
    maxEntries_ = kinfo_.max_entries;
    flags_ = kinfo_.map_flags;
  } else {
    type_ = bpf_map__type(map_);
    keySize_ = bpf_map__key_size(map_);
    valueSize_ = bpf_map__value_size(map_);
    maxEntries_ = bpf_map__max_entries(map_);
    flags_ = bpf_map__map_flags(map_);
  }
  ncpus_ = IsPerCpu(type_) ? PossibleCpus() : 1;
  sized_ = true;
}

uint32_t MapWrap::ValueBytes() const {
  return ncpus_ > 1 || IsPerCpu(type_) ? RoundUp8(valueSize_) * ncpus_ : valueSize_;
}

// --- Module functions ---------------------------------------------------------------------------

// A standalone wrapper that owns `fd`; closes the fd and throws when it is not a map.
Napi::Object MapWrap::NewStandalone(Napi::Env env, int fd) {
  struct bpf_map_info mi;
  if (GetInfo(fd, &mi) != 0) {
    int err = errno;
    close(fd);
    BpfErrorDetails d("map-info");
    ThrowBpfError(env, "bpf_obj_get_info_by_fd", -err, d);
  }
  Addon* addon = Addon::Get(env);
  Napi::Object obj = addon->mapCtor.New({});
  MapWrap* wrap = Unwrap(obj);
  wrap->standalone_ = true;
  wrap->fd_ = fd;
  wrap->kinfo_ = mi;
  wrap->RegisterRoot(addon);
  return obj;
}

// JS: openPinnedMap(path) -> NativeMap owning a new fd of the map pinned at `path`.
Napi::Value MapWrap::JS_openPinned(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = args::String(info, 0, "path");
  int fd = bpf_obj_get(path.c_str());
  if (fd < 0) {
    int err = -errno;  // before building strings, which may change errno
    ThrowBpfError(env, "bpf_obj_get", err, BpfErrorDetails("open-pinned").Set("path", path).Set("expected", "map"));
  }
  return NewStandalone(env, fd);
}

// JS: createMap(options) -> NativeMap owning the fd of a new map that belongs to no object
// (inner maps of map-in-maps, maps shared by programs of several objects). lib/ validates.
Napi::Value MapWrap::JS_create(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Value arg = args::At(info, 0);
  if (!arg.IsObject()) throw Napi::TypeError::New(env, "options must be an object");
  Napi::Object o = arg.As<Napi::Object>();
  auto u32 = [&](const char* key, uint32_t fallback) -> uint32_t {
    Napi::Value v = o.Get(key);
    if (v.IsUndefined()) return fallback;
    if (!v.IsNumber()) throw Napi::TypeError::New(env, std::string("options.") + key + " must be a number");
    return v.As<Napi::Number>().Uint32Value();
  };
  Napi::Value typeValue = o.Get("type");
  if (!typeValue.IsString()) throw Napi::TypeError::New(env, "options.type must be a string");
  std::string typeName = typeValue.As<Napi::String>().Utf8Value();
  int type = kinds::FindMapType(typeName);
  if (type < 0) throw Napi::RangeError::New(env, "unknown map type '" + typeName + "'");
  Napi::Value nameValue = o.Get("name");
  std::string name = nameValue.IsString() ? nameValue.As<Napi::String>().Utf8Value() : "";
  LIBBPF_OPTS(bpf_map_create_opts, opts);
  opts.map_flags = u32("flags", 0);
  opts.inner_map_fd = u32("innerMapFd", 0);
  opts.map_extra = u32("mapExtra", 0);
  int fd = bpf_map_create(static_cast<enum bpf_map_type>(type), name.empty() ? nullptr : name.c_str(), u32("keySize", 0),
                          u32("valueSize", 0), u32("maxEntries", 0), &opts);
  if (fd < 0) {
    int err = -errno;
    BpfErrorDetails d("map-create");
    d.Set("type", typeName);
    if (!name.empty()) d.Set("name", name);
    ThrowBpfError(env, "bpf_map_create", err, d);
  }
  return NewStandalone(env, fd);
}

// JS: openMapById(id) -> NativeMap owning a new fd of the map with kernel id `id`.
Napi::Value MapWrap::JS_openById(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t id = args::Uint32(info, 0, "id");
  int fd = bpf_map_get_fd_by_id(id);
  if (fd < 0) {
    int err = -errno;  // before building strings, which may change errno
    ThrowBpfError(env, "bpf_map_get_fd_by_id", err, BpfErrorDetails("open-by-id").Set("id", id).Set("kind", "map"));
  }
  return NewStandalone(env, fd);
}

Napi::Value MapWrap::JS_infoByFd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t fd = args::Uint32(info, 0, "fd");
  struct bpf_map_info mi;
  if (GetInfo(static_cast<int>(fd), &mi) != 0) {
    int err = errno;
    BpfErrorDetails d("map-info");
    d.Set("fd", fd);
    ThrowBpfError(env, "bpf_obj_get_info_by_fd", -err, d);
  }
  return KernelInfoObject(env, mi);
}

Napi::Value MapWrap::JS_numPossibleCpus(const Napi::CallbackInfo& info) {
  int n = libbpf_num_possible_cpus();
  if (n < 0) ThrowBpfError(info.Env(), "libbpf_num_possible_cpus", n);
  return Napi::Number::New(info.Env(), n);
}

// --- Open phase -----------------------------------------------------------------------------------

Napi::Value MapWrap::JS_info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  if (standalone_) {
    out.Set("name", kinfo_.name);
    out.Set("internal", false);
    out.Set("type", kinds::MapType(static_cast<enum bpf_map_type>(kinfo_.type)));
    out.Set("keySize", kinfo_.key_size);
    out.Set("valueSize", kinfo_.value_size);
    out.Set("maxEntries", kinfo_.max_entries);
    out.Set("flags", static_cast<double>(kinfo_.map_flags));
    out.Set("fd", fd_);
    out.Set("btfKeyTypeId", kinfo_.btf_key_type_id);
    out.Set("btfValueTypeId", kinfo_.btf_value_type_id);
    out.Set("pinned", false);
    out.Set("hasInitialValue", false);
    return out;
  }
  CheckUsable(env, "describe a map");
  const char* name = bpf_map__name(map_);
  out.Set("name", name);
  bool internal = bpf_map__is_internal(map_);
  out.Set("internal", internal);
  // An internal map's name is "<object prefix><section>" for .data/.bss/.rodata/.kconfig (the
  // prefix may hold dots itself: objectName 'a.b' gives 'a.b.rodata'), and the section itself
  // for custom .data.*/.rodata.* sections. The section is what BTF calls it.
  if (internal) {
    std::string n = name;
    std::string section;
    if (!n.empty() && n[0] == '.') {
      section = n;
    } else {
      for (const char* s : {".rodata", ".data", ".bss", ".kconfig"}) {
        size_t len = strlen(s);
        if (n.size() >= len && n.compare(n.size() - len, len, s) == 0) {
          section = s;
          break;
        }
      }
    }
    if (!section.empty()) out.Set("section", section);
  }
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
    CheckObjectMap(env, "set " what);                                          \
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
  CheckObjectMap(env, "set the pin path");
  CheckConfigurable(env, "set the pin path");
  int err = bpf_map__set_pin_path(map_, path.empty() ? nullptr : path.c_str());
  if (err) ThrowBpfError(env, "bpf_map__set_pin_path", err);
  return env.Undefined();
}

Napi::Value MapWrap::JS_setAutocreate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bool on = args::Bool(info, 0, "autocreate");
  CheckObjectMap(env, "set autocreate");
  CheckConfigurable(env, "set autocreate");
  int err = bpf_map__set_autocreate(map_, on);
  if (err) ThrowBpfError(env, "bpf_map__set_autocreate", err);
  return env.Undefined();
}

// JS: reuseFd(fd): the object will use this existing map instead of creating one at load.
Napi::Value MapWrap::JS_reuseFd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t fd = args::Uint32(info, 0, "fd");
  CheckObjectMap(env, "reuse a map");
  CheckConfigurable(env, "reuse a map");
  int err = bpf_map__reuse_fd(map_, static_cast<int>(fd));
  if (err) ThrowBpfError(env, "bpf_map__reuse_fd", err);
  return env.Undefined();
}

// --- Loaded phase ---------------------------------------------------------------------------------

Napi::Value MapWrap::JS_kernelInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = Fd(env, "read map info");
  struct bpf_map_info mi;
  if (GetInfo(fd, &mi) != 0) ThrowBpfError(env, "bpf_obj_get_info_by_fd", -errno);
  return KernelInfoObject(env, mi);
}

// JS: btf() -> the raw BTF the kernel holds for the map, or null when it has none.
Napi::Value MapWrap::JS_btf(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = Fd(env, "read the map's BTF");
  struct bpf_map_info mi;
  if (GetInfo(fd, &mi) != 0) ThrowBpfError(env, "bpf_obj_get_info_by_fd", -errno);
  if (mi.btf_id == 0) return env.Null();
  struct btf* btf = btf__load_from_kernel_by_id(mi.btf_id);
  if (btf == nullptr) ThrowBpfError(env, "btf__load_from_kernel_by_id", -errno);
  __u32 size = 0;
  const void* raw = btf__raw_data(btf, &size);
  if (raw == nullptr) {
    int err = -errno;
    btf__free(btf);
    ThrowBpfError(env, "btf__raw_data", err);
  }
  Napi::Buffer<uint8_t> out = Napi::Buffer<uint8_t>::Copy(env, static_cast<const uint8_t*>(raw), size);
  btf__free(btf);
  return out;
}

Napi::Value MapWrap::JS_fd(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), Fd(info.Env(), "get the map's fd"));
}

Napi::Value MapWrap::JS_readValue(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t offset = args::Uint32(info, 0, "offset");
  uint32_t length = args::Uint32(info, 1, "length");
  CheckObjectMap(env, "read a global variable");
  CheckUsable(env, "read a global variable");
  CheckGlobalsMap(env, "read a global variable");
  uint32_t valueSize = bpf_map__value_size(map_);
  if (static_cast<uint64_t>(offset) + length > valueSize) throw Napi::RangeError::New(env, "read past the end of the map value");
  if (!owner()->IsLoaded()) {
    size_t size = 0;
    const void* image = bpf_map__initial_value(map_, &size);
    if (image == nullptr || static_cast<uint64_t>(offset) + length > size)
      ThrowStateError(env, "read a global variable", "map-no-initial-value", BpfErrorDetails().Set("name", bpf_map__name(map_)));
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
  CheckObjectMap(env, "write a global variable");
  CheckUsable(env, "write a global variable");
  CheckGlobalsMap(env, "write a global variable");
  uint32_t valueSize = bpf_map__value_size(map_);
  if (static_cast<uint64_t>(offset) + bytes.length > valueSize) throw Napi::RangeError::New(env, "write past the end of the map value");
  if (!owner()->IsLoaded()) {
    size_t size = 0;
    // libbpf < 1.3 declares the result const; before load it is libbpf's writable image.
    void* image = const_cast<void*>(static_cast<const void*>(bpf_map__initial_value(map_, &size)));
    if (image == nullptr || static_cast<uint64_t>(offset) + bytes.length > size)
      ThrowStateError(env, "write a global variable", "map-no-initial-value", BpfErrorDetails().Set("name", bpf_map__name(map_)));
    memcpy(static_cast<uint8_t*>(image) + offset, bytes.data, bytes.length);
    return env.Undefined();
  }
  if (bpf_map__map_flags(map_) & BPF_F_RDONLY_PROG) {
    // .rodata and .kconfig are frozen at load.
    ThrowStateError(env, "write a global variable", "map-read-only-after-load", BpfErrorDetails().Set("name", bpf_map__name(map_)));
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

// --- Element access -------------------------------------------------------------------------------

void MapWrap::SetSizes(Napi::Object out) const {
  out.Set("type", kinds::MapType(static_cast<enum bpf_map_type>(type_)));
  out.Set("keySize", keySize_);
  out.Set("valueSize", valueSize_);
  out.Set("valueBytes", ValueBytes());
  out.Set("maxEntries", maxEntries_);
  out.Set("flags", static_cast<double>(flags_));
  out.Set("ncpus", ncpus_);
}

// JS: lookupBatch(andDelete, inToken | null, outToken, keys, values, count, elemFlags)
//   -> { count, done }. Tokens are opaque kernel cursors of at least max(keySize, 8) bytes.
Napi::Value MapWrap::JS_lookupBatch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bool andDelete = args::Bool(info, 0, "andDelete");
  LoadSizes(env);
  uint64_t tokenSize = keySize_ > 8 ? keySize_ : 8;
  bool hasIn = !args::At(info, 1).IsNull();
  args::Bytes in = hasIn ? SizedBytes(info, 1, "inToken", tokenSize) : args::Bytes{};
  args::Bytes out = SizedBytes(info, 2, "outToken", tokenSize);
  uint32_t count = args::Uint32(info, 5, "count");
  args::Bytes keys = SizedBytes(info, 3, "keys", static_cast<uint64_t>(count) * keySize_);
  args::Bytes values = SizedBytes(info, 4, "values", static_cast<uint64_t>(count) * ValueBytes());
  uint32_t elemFlags = args::Uint32(info, 6, "elemFlags");
  int fd = Fd(env, andDelete ? "take a batch" : "look up a batch");
  LIBBPF_OPTS(bpf_map_batch_opts, opts, .elem_flags = elemFlags);
  __u32 n = count;
  int err = andDelete ? bpf_map_lookup_and_delete_batch(fd, hasIn ? in.data : nullptr, out.data, keys.data, values.data, &n, &opts)
                      : bpf_map_lookup_batch(fd, hasIn ? in.data : nullptr, out.data, keys.data, values.data, &n, &opts);
  if (err != 0 && err != -ENOENT) {
    ThrowBpfError(env, andDelete ? "bpf_map_lookup_and_delete_batch" : "bpf_map_lookup_batch", err);
  }
  Napi::Object result = Napi::Object::New(env);
  result.Set("count", n);
  result.Set("done", err == -ENOENT);
  return result;
}

// JS: updateBatch(keys, values, count, elemFlags) -> count written.
Napi::Value MapWrap::JS_updateBatch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  LoadSizes(env);
  uint32_t count = args::Uint32(info, 2, "count");
  args::Bytes keys = SizedBytes(info, 0, "keys", static_cast<uint64_t>(count) * keySize_);
  args::Bytes values = SizedBytes(info, 1, "values", static_cast<uint64_t>(count) * ValueBytes());
  uint32_t elemFlags = args::Uint32(info, 3, "elemFlags");
  int fd = Fd(env, "update a batch");
  LIBBPF_OPTS(bpf_map_batch_opts, opts, .elem_flags = elemFlags);
  __u32 n = count;
  int err = bpf_map_update_batch(fd, keys.data, values.data, &n, &opts);
  if (err != 0) {
    ThrowBpfError(env, "bpf_map_update_batch", err,
                  BpfErrorDetails("batch").Set("done", n).Set("count", count).Set("verb", "written"));
  }
  return Napi::Number::New(env, n);
}

// JS: deleteBatch(keys, count) -> count deleted.
Napi::Value MapWrap::JS_deleteBatch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  LoadSizes(env);
  uint32_t count = args::Uint32(info, 1, "count");
  args::Bytes keys = SizedBytes(info, 0, "keys", static_cast<uint64_t>(count) * keySize_);
  int fd = Fd(env, "delete a batch");
  LIBBPF_OPTS(bpf_map_batch_opts, opts);
  __u32 n = count;
  int err = bpf_map_delete_batch(fd, keys.data, &n, &opts);
  if (err != 0) {
    ThrowBpfError(env, "bpf_map_delete_batch", err,
                  BpfErrorDetails("batch").Set("done", n).Set("count", count).Set("verb", "deleted"));
  }
  return Napi::Number::New(env, n);
}

// --- Kernel object --------------------------------------------------------------------------------

Napi::Value MapWrap::JS_freeze(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = Fd(env, "freeze the map");
  int err = bpf_map_freeze(fd);
  if (err != 0) ThrowBpfError(env, "bpf_map_freeze", err);
  return env.Undefined();
}

// JS: pin(path). lib/ checks that the path is in bpffs.
Napi::Value MapWrap::JS_pin(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = args::String(info, 0, "path");
  int fd = Fd(env, "pin the map");
  pin::CheckPath(env, path);
  LogCapture capture;
  int err = standalone_ ? (bpf_obj_pin(fd, path.c_str()) != 0 ? -errno : 0) : bpf_map__pin(map_, path.c_str());
  capture.Deliver(env);  // JS: nothing native is read below
  if (err != 0) ThrowBpfError(env, standalone_ ? "bpf_obj_pin" : "bpf_map__pin", err, BpfErrorDetails("pin").Set("path", path).Set("kind", "map"));
  return env.Undefined();
}

// JS: unpin(path): removes the pin at `path`.
Napi::Value MapWrap::JS_unpin(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = args::String(info, 0, "path");
  Fd(env, "unpin the map");
  // unlink() only in bpffs: never a file elsewhere, whatever JS passes.
  pin::CheckPath(env, path);
  int err = standalone_ ? (unlink(path.c_str()) == 0 ? 0 : -errno) : bpf_map__unpin(map_, path.c_str());
  if (err != 0) ThrowBpfError(env, standalone_ ? "unlink" : "bpf_map__unpin", err, BpfErrorDetails("unpin").Set("path", path).Set("kind", "map"));
  return env.Undefined();
}

// JS: mmap() -> ArrayBuffer over the map's memory (writable arrays created BPF_F_MMAPABLE).
// The same ArrayBuffer is returned while it lives; it is detached when the map or its object
// is closed.
Napi::Value MapWrap::JS_mmap(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = Fd(env, "map the map's memory");
  LoadSizes(env);
  if (type_ != BPF_MAP_TYPE_ARRAY || !(flags_ & BPF_F_MMAPABLE)) {
    ThrowStateError(env, "map the map's memory", "map-not-mmapable");
  }
  if (flags_ & (BPF_F_RDONLY | BPF_F_RDONLY_PROG)) {
    ThrowStateError(env, "map the map's memory", "map-read-only-mmap");
  }
  if (view_ == nullptr || view_->IsClosed()) {
    long page = sysconf(_SC_PAGESIZE);
    size_t bytes = static_cast<size_t>(RoundUp8(valueSize_)) * maxEntries_;
    bytes = (bytes + page - 1) / page * page;
    view_ = MapView::Create(this, fd, bytes);
    if (view_ == nullptr) {
      int err = errno;
      BpfErrorDetails d("map-mmap");
      ThrowBpfError(env, "mmap", -err, d);
    }
  }
  return view_->Buffer(env, Value());
}

// JS: close(). A standalone map closes (its memory view, then its fd); a map of an object only
// closes its memory view (the object closes the map).
Napi::Value MapWrap::JS_close(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (standalone_) {
    Close(Cause::kClose, &env);
  } else if (view_ != nullptr) {
    view_->Close(Cause::kClose, &env);
  }
  return env.Undefined();
}

Napi::Value MapWrap::JS_closed(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), IsClosed());
}
