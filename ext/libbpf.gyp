# libbpf as a static, position-independent library linked into the addon (see fetch-source.sh
# for where its source comes from and ext/libbpf.env for the pinned version).
{
  'targets': [
    {
      'target_name': 'libbpf',
      'type': 'static_library',
      'sources': [ '<!@(sh fetch-source.sh libbpf --print-sources)' ],
      'include_dirs': [ 'libbpf/src', 'libbpf/include', 'libbpf/include/uapi' ],
      'defines': [ '_LARGEFILE64_SOURCE', '_FILE_OFFSET_BITS=64' ],
      'cflags': [ '-fPIC', '-std=gnu89', '-O2', '-fvisibility=hidden', '-Wno-unused-parameter',
                  '-Wno-missing-field-initializers', '-Wno-sign-compare' ],
      'cflags!': [ '-fno-exceptions' ],
      'direct_dependent_settings': {
        'include_dirs': [ 'libbpf/usr/include', 'libbpf/include/uapi' ],
      },
      # libelf and zlib from pinned source too, so the addon needs nothing but libc at run time.
      'dependencies': [ 'libelf.gyp:libelf', 'zlib.gyp:zlib' ],
    },
  ],
}
