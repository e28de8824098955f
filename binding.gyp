# The addon: native/*.cc over libbpf. libbpf, libelf and zlib come from ext/*.gyp (pinned
# source, static, PIC) unless `use_system_libbpf=true` is given (LIBBPF_NODE_SYSTEM_LIBBPF=1
# npm install, see scripts/install.js, or node-gyp rebuild --use_system_libbpf=true), which
# links the system's libbpf >= 1.1 through pkg-config instead.
{
  'variables': { 'use_system_libbpf%': 'false' },
  'targets': [
    {
      'target_name': 'bpf_node',
      'sources': [
        'native/addon.cc',
        'native/errors.cc',
        'native/log.cc',
        'native/object.cc',
        'native/program.cc',
        'native/map/map.cc',
        'native/map/map_ops.cc',
        'native/link.cc',
        'native/internal/netns.cc',
        'native/internal/handle.cc',
        'native/attach/xdp.cc',
        'native/attach/tc.cc',
        'native/test_run.cc',
        'native/testing/packet_socket.cc',
        'native/rootarray/lock.cc',
        'native/map/mmap.cc',
        'native/events/epoll_reader.cc',
        'native/events/ringbuf.cc',
        'native/events/perfbuf.cc',
        'native/attach/attach.cc',
        'native/attach/uprobe.cc',
        'native/attach/usdt.cc',
        'native/attach/kprobe.cc',
        'native/attach/tracepoint.cc',
        'native/attach/trampoline.cc',
        'native/attach/perf_event.cc',
        'native/attach/socket.cc',
        'native/attach/cgroup.cc',
        'native/attach/iter.cc',
        'native/features.cc',
        'ext/glibc-floor.c',
      ],
      'include_dirs': [ "<!(node -p \"require('node-addon-api').include_dir\")" ],
      'defines': [ 'NAPI_VERSION=8', 'NAPI_CPP_EXCEPTIONS', 'NODE_ADDON_API_DISABLE_DEPRECATED',
                   # A call into the addon while a worker ends cannot throw into JS: swallow, do
                   # not std::terminate (see native/internal/async.h and native/README.md).
                   'NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS' ],
      'cflags_cc': [ '-std=c++17', '-fexceptions', '-fvisibility=hidden', '-Wall', '-Wextra', '-Wno-unused-parameter',
                     '-Wno-missing-field-initializers' ],
      'cflags_cc!': [ '-fno-exceptions', '-std=gnu++17', '-std=gnu++20' ],
      # libstdc++ linked in, and the few glibc symbols newer than 2.28 sent to ext/glibc-floor.c,
      # so the addon needs only glibc >= 2.28 (and libgcc_s, which glibc itself loads) at run
      # time; .ci/check-prebuilds.sh checks it.
      'ldflags': [ '-Wl,--exclude-libs,ALL', '-static-libstdc++',
                   '-Wl,--wrap=fstat64,--wrap=pthread_once,--wrap=arc4random' ],
      'conditions': [
        [ 'use_system_libbpf=="true"', {
          'cflags_cc': [ '<!@(pkg-config --cflags libbpf)' ],
          'libraries': [ '<!@(pkg-config --libs libbpf)' ],
          'defines': [ 'LIBBPF_NODE_SYSTEM_LIBBPF' ],
        }, {
          'dependencies': [ 'ext/libbpf.gyp:libbpf' ],
        } ],
      ],
    },
  ],
}
