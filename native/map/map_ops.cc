// The hot path of element access: per-map functions over natively owned scratch memory.
//
// bindOps() allocates the map's scratch (key at 0, value at valueOffset, next key at
// nextOffset), exposes it to JS once as an external ArrayBuffer, and returns functions
// (lookup, update, remove, lookupAndDelete, nextKey) whose N-API `data` is this map. A call
// therefore costs one napi_get_cb_info and the syscall:
//   - no `this`: the function reaches its map through `data`, so there is nothing to unwrap or
//     type-check, and a foreign `this` is simply ignored;
//   - no detached-buffer check: the memory belongs to MapOps, not to the ArrayBuffer. If JS
//     detaches or transfers the buffer, the memory stays valid until the last function and the
//     buffer are gone (JS then sees an empty view; the kernel never writes freed memory);
//   - sizes were checked once, at bind time.
// The map's state is still checked on every call (Fd(): closed map, closed or unloaded object).
// The functions and the scratch buffer hold a strong reference to the map's JS object (the
// owner graph's rule for whatever uses another's resources, native/README.md): the map wrapper
// outlives them, so they never reach a destroyed wrapper.
#include <bpf/bpf.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "../errors.h"
#include "../internal/kinds.h"
#include "map.h"
#include "../internal/netns.h"

// What one bindOps() shares between its functions and its ArrayBuffer (each holds a shared_ptr:
// memory shared by JS values collected in any order, not ownership of a kernel object).
struct MapOps {
  MapWrap* map = nullptr;
  Napi::ObjectReference mapRef;  // strong: keeps `map` alive
  uint8_t* scratch = nullptr;
  uint8_t* key = nullptr;    // nullptr for maps without keys (queue, stack)
  uint8_t* value = nullptr;
  uint8_t* next = nullptr;
  size_t bytes = 0;

  ~MapOps() { free(scratch); }

  // The map's fd for `what`; throws when the map is not usable.
  int Fd(Napi::Env env, const char* what) const { return map->Fd(env, what); }
};

namespace {

using OpsPtr = std::shared_ptr<MapOps>;

// Arguments of one fast call: up to one, and the MapOps behind `data`.
struct Call {
  napi_env env;
  size_t argc = 1;
  napi_value arg = nullptr;
  MapOps* ops = nullptr;

  Call(napi_env e, napi_callback_info info) : env(e) {
    void* data = nullptr;
    napi_get_cb_info(env, info, &argc, &arg, nullptr, &data);
    ops = static_cast<OpsPtr*>(data)->get();
  }

  // Optional flags argument: a uint32 number, or absent/undefined (0).
  uint32_t Flags() const {
    if (argc == 0) return 0;
    napi_valuetype t;
    napi_typeof(env, arg, &t);
    if (t == napi_undefined) return 0;
    double d = -1;
    if (t != napi_number || napi_get_value_double(env, arg, &d) != napi_ok || !(d >= 0 && d <= 0xffffffffu) || std::floor(d) != d) {
      throw Napi::TypeError::New(env, "flags must be an integer in [0, 2^32)");
    }
    return static_cast<uint32_t>(d);
  }

  napi_value Bool(bool b) const {
    napi_value out;
    napi_get_boolean(env, b, &out);
    return out;
  }
};

// Runs `body`, turning a C++ exception into a pending JS exception (raw N-API callbacks must not
// let one escape).
template <typename F>
napi_value Guard(napi_env env, F body) {
  try {
    return body();
  } catch (const Napi::Error& e) {
    e.ThrowAsJavaScriptException();
  } catch (const std::exception& e) {
    napi_throw_error(env, nullptr, e.what());
  }
  return nullptr;
}

// JS: lookup(flags?) -> whether the key was found (its value is then in the scratch).
napi_value OpsLookup(napi_env env, napi_callback_info info) {
  return Guard(env, [&] {
    Call c(env, info);
    MapOps* o = c.ops;
    uint32_t flags = c.Flags();
    int err = bpf_map_lookup_elem_flags(o->Fd(env, "look up an element"), o->key, o->value, flags);
    if (err == 0 || err == -ENOENT) return c.Bool(err == 0);
    ThrowBpfError(env, o->key ? "bpf_map_lookup_elem" : "bpf_map_lookup_elem (peek)", err);
  });
}

// JS: update(flags?) -> undefined.
napi_value OpsUpdate(napi_env env, napi_callback_info info) {
  return Guard(env, [&]() -> napi_value {
    Call c(env, info);
    MapOps* o = c.ops;
    uint32_t flags = c.Flags();
    int err = bpf_map_update_elem(o->Fd(env, "update an element"), o->key, o->value, flags);
    if (err != 0) ThrowBpfError(env, o->key ? "bpf_map_update_elem" : "bpf_map_update_elem (push)", err);
    return nullptr;
  });
}

// JS: updateInNetns(netns, flags?) -> undefined: update() with the calling thread in the network
// namespace `netns`, for maps whose values name interfaces by ifindex (DEVMAP, DEVMAP_HASH): the
// kernel resolves the ifindex in the namespace of the thread that writes it.
napi_value OpsUpdateInNetns(napi_env env, napi_callback_info info) {
  return Guard(env, [&]() -> napi_value {
    size_t argc = 2;
    napi_value argv[2];
    void* data = nullptr;
    napi_get_cb_info(env, info, &argc, argv, nullptr, &data);
    MapOps* o = static_cast<OpsPtr*>(data)->get();
    Napi::Value nsArg = argc > 0 ? Napi::Value(env, argv[0]) : Napi::Env(env).Undefined();
    if (!nsArg.IsString()) throw Napi::TypeError::New(env, "netns must be a string");
    std::string netns = nsArg.As<Napi::String>().Utf8Value();
    uint32_t flags = 0;
    if (argc > 1) {
      Napi::Value f(env, argv[1]);
      if (!f.IsNumber()) throw Napi::TypeError::New(env, "flags must be a number");
      flags = f.As<Napi::Number>().Uint32Value();
    }
    int fd = o->Fd(env, "update an element");
    int err;
    {
      NetnsScope scope(netns);
      if (scope.error() != 0) ThrowNetnsError(env, scope, netns);
      err = bpf_map_update_elem(fd, o->key, o->value, flags);
    }
    if (err != 0) {
      BpfErrorDetails d("map-update-netns");
      d.Set("netns", netns);
      ThrowBpfError(env, "bpf_map_update_elem", err, d);
    }
    return nullptr;
  });
}

// JS: remove() -> whether something was deleted.
napi_value OpsRemove(napi_env env, napi_callback_info info) {
  return Guard(env, [&] {
    Call c(env, info);
    MapOps* o = c.ops;
    int err = bpf_map_delete_elem(o->Fd(env, "delete an element"), o->key);
    if (err == 0 || err == -ENOENT) return c.Bool(err == 0);
    ThrowBpfError(env, "bpf_map_delete_elem", err);
  });
}

// JS: lookupAndDelete(flags?) -> whether an element was taken.
napi_value OpsLookupAndDelete(napi_env env, napi_callback_info info) {
  return Guard(env, [&] {
    Call c(env, info);
    MapOps* o = c.ops;
    uint32_t flags = c.Flags();
    int err = bpf_map_lookup_and_delete_elem_flags(o->Fd(env, "take an element"), o->key, o->value, flags);
    if (err == 0 || err == -ENOENT) return c.Bool(err == 0);
    ThrowBpfError(env, o->key ? "bpf_map_lookup_and_delete_elem" : "bpf_map_lookup_and_delete_elem (pop)", err);
  });
}

// JS: nextKey(fromKey) -> whether there is a key after the scratch key (the first key when
// fromKey is false); it is written at nextOffset.
napi_value OpsNextKey(napi_env env, napi_callback_info info) {
  return Guard(env, [&] {
    Call c(env, info);
    MapOps* o = c.ops;
    bool fromKey = false;
    if (c.argc < 1 || napi_get_value_bool(env, c.arg, &fromKey) != napi_ok) {
      throw Napi::TypeError::New(env, "fromKey must be a boolean");
    }
    int err = bpf_map_get_next_key(o->Fd(env, "iterate"), fromKey ? o->key : nullptr, o->next);
    if (err == 0 || err == -ENOENT) return c.Bool(err == 0);
    ThrowBpfError(env, "bpf_map_get_next_key", err);
  });
}

void FinalizeOps(napi_env, void* data, void*) { delete static_cast<OpsPtr*>(data); }
void FinalizeBuffer(napi_env, void*, void* hint) { delete static_cast<OpsPtr*>(hint); }

uint32_t Align8(uint32_t n) { return (n + 7) & ~7u; }

}  // namespace

// JS: bindOps() -> { scratch: ArrayBuffer, valueOffset, nextOffset, lookup, update, remove,
//   lookupAndDelete, nextKey, type, keySize, valueSize, valueBytes, maxEntries, flags, ncpus }.
Napi::Value MapWrap::JS_bindOps(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  LoadSizes(env);
  auto ops = std::make_shared<MapOps>();
  ops->map = this;
  ops->mapRef = Napi::Persistent(Value());
  uint32_t valueOffset = Align8(keySize_);
  uint32_t nextOffset = valueOffset + Align8(ValueBytes());
  ops->bytes = nextOffset + Align8(keySize_ > 0 ? keySize_ : 1);
  ops->scratch = static_cast<uint8_t*>(calloc(1, ops->bytes));
  if (ops->scratch == nullptr) ThrowBpfError(env, "calloc", -ENOMEM);
  ops->key = keySize_ > 0 ? ops->scratch : nullptr;
  ops->value = ops->scratch + valueOffset;
  ops->next = ops->scratch + nextOffset;

  Napi::Object out = Napi::Object::New(env);
  napi_value ab;
  auto* bufferHold = new OpsPtr(ops);
  napi_status s = napi_create_external_arraybuffer(env, ops->scratch, ops->bytes, FinalizeBuffer, bufferHold, &ab);
  if (s != napi_ok) {
    delete bufferHold;
    ThrowBpfError(env, "napi_create_external_arraybuffer", -ENOTSUP,
                  BpfErrorDetails("external-arraybuffer"));
  }
  out.Set("scratch", Napi::Value(env, ab));
  static const struct {
    const char* name;
    napi_callback cb;
  } fns[] = {
      {"lookup", OpsLookup}, {"update", OpsUpdate}, {"remove", OpsRemove},
      {"lookupAndDelete", OpsLookupAndDelete}, {"nextKey", OpsNextKey}, {"updateInNetns", OpsUpdateInNetns},
  };
  for (const auto& f : fns) {
    auto* hold = new OpsPtr(ops);
    napi_value fn;
    if (napi_create_function(env, f.name, NAPI_AUTO_LENGTH, f.cb, hold, &fn) != napi_ok ||
        napi_add_finalizer(env, fn, hold, FinalizeOps, nullptr, nullptr) != napi_ok) {
      delete hold;
      throw Napi::Error::New(env, "bindOps: could not create the map's functions");
    }
    out.Set(f.name, Napi::Value(env, fn));
  }
  out.Set("valueOffset", valueOffset);
  out.Set("nextOffset", nextOffset);
  SetSizes(out);
  return out;
}
