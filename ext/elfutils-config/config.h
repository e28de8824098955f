/* elfutils' config.h for building only libelf, static and position-independent, into the
 * libbpf-node addon (ext/libelf.gyp). Written by hand in place of elfutils' configure run: the
 * answers are those configure gives on glibc (Linux), with zlib and without zstd, NLS or locks. */
#define _GNU_SOURCE 1
#define HAVE_DECL_MEMPCPY 1
#define HAVE_DECL_MEMRCHR 1
#define HAVE_DECL_POWEROF2 1
#define HAVE_DECL_RAWMEMCHR 1
#define HAVE_DECL_REALLOCARRAY 1
#define HAVE_ERROR_H 1
#define HAVE_ERR_H 1
#define HAVE_FALLTHROUGH 1
#define HAVE_GCC_STRUCT 1
#define HAVE_MREMAP 1
#define HAVE_VISIBILITY 1
#define HAVE_STDATOMIC_H 1
#define PACKAGE "elfutils"
#define PACKAGE_NAME "elfutils"
#define PACKAGE_VERSION "0.192"
#define PACKAGE_STRING "elfutils 0.192"
#define PACKAGE_URL ""
#define PACKAGE_BUGREPORT ""
#define PACKAGE_TARNAME "elfutils"
#define USE_ZLIB 1
#include <eu-config.h>
