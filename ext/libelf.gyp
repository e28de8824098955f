# elfutils' libelf as a static, position-independent library linked into the addon (see
# fetch-source.sh for where its source comes from and ext/elfutils.env for the pinned version).
# elfutils-config/config.h stands in for elfutils' configure run.
{
  'targets': [
    {
      'target_name': 'libelf',
      'type': 'static_library',
      'sources': [ '<!@(sh fetch-source.sh elfutils --print-sources)' ],
      'dependencies': [ 'zlib.gyp:zlib' ],
      'include_dirs': [ 'elfutils-config', 'elfutils/libelf', 'elfutils/lib' ],
      'defines': [ 'HAVE_CONFIG_H' ],
      'cflags': [ '-fPIC', '-O2', '-std=gnu11', '-fvisibility=hidden', '-Wno-unused-parameter',
                  '-Wno-missing-field-initializers', '-Wno-sign-compare', '-Wno-implicit-fallthrough' ],
      'direct_dependent_settings': { 'include_dirs': [ 'elfutils/libelf' ] },
      'export_dependent_settings': [ 'zlib.gyp:zlib' ],
    },
  ],
}
