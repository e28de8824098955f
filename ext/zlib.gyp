# zlib as a static, position-independent library linked into the addon (see fetch-source.sh for
# where its source comes from and ext/zlib.env for the pinned version).
{
  'targets': [
    {
      'target_name': 'zlib',
      'type': 'static_library',
      'sources': [ '<!@(sh fetch-source.sh zlib --print-sources)' ],
      'include_dirs': [ 'zlib' ],
      # What zlib's configure finds on Linux: unistd.h, stdarg.h, 64-bit file offsets.
      'defines': [ 'HAVE_UNISTD_H', 'HAVE_STDARG_H', '_LARGEFILE64_SOURCE=1' ],
      'cflags': [ '-fPIC', '-O2', '-fvisibility=hidden', '-Wno-unused-parameter', '-Wno-implicit-fallthrough' ],
      'direct_dependent_settings': { 'include_dirs': [ 'zlib' ] },
    },
  ],
}
