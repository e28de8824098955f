/* Keeps the addon's glibc symbol floor at 2.28 (the floor of Node's own Linux binaries) although
 * it is built on a newer glibc (Debian 12: 2.36) and links libstdc++ statically.
 *
 * A program built against glibc N asks for the newest version of each symbol in N; the dynamic
 * linker then refuses to load it on an older glibc. The addon uses four such symbols, listed by
 * `npm run check:prebuilds` (.ci/check-prebuilds.sh):
 *
 *   fstat64, pthread_once   new versions (2.33, 2.34) of functions glibc has had forever; the
 *                           linker sends every call to __wrap_* below (binding.gyp: --wrap),
 *                           which call the oldest version or the system call itself.
 *   arc4random              new in 2.36; only std::random_device (in the static libstdc++)
 *                           asks for it, through the same --wrap; getrandom(2) does the work.
 *   __libc_single_threaded  new in 2.32; the static libstdc++ reads it to skip atomic reference
 *                           counts when a process has one thread. The definition below is local
 *                           to the addon and says "not single-threaded": always atomic, always
 *                           correct (Node has threads anyway).
 *
 * Nothing here changes behaviour on any glibc; it only changes which symbol versions the addon
 * names. The check script fails the build's check if a newer version creeps back in. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__)
#define GLIBC_OLDEST "GLIBC_2.2.5"
#elif defined(__aarch64__)
#define GLIBC_OLDEST "GLIBC_2.17"
#else
#error "glibc-floor.c: add this architecture's oldest glibc symbol version"
#endif

#define HIDDEN __attribute__((visibility("hidden")))

HIDDEN char __libc_single_threaded = 0;

int libbpf_node_pthread_once_oldest(pthread_once_t *once, void (*init)(void));
__asm__(".symver libbpf_node_pthread_once_oldest, pthread_once@" GLIBC_OLDEST);

HIDDEN int __wrap_pthread_once(pthread_once_t *once, void (*init)(void)) {
  return libbpf_node_pthread_once_oldest(once, init);
}

/* struct stat64 is the kernel's struct stat on both 64-bit targets. */
HIDDEN int __wrap_fstat64(int fd, struct stat64 *st) {
  return (int)syscall(SYS_fstat, fd, st);
}

HIDDEN uint32_t __wrap_arc4random(void) {
  uint32_t value;
  for (;;) {
    long n = syscall(SYS_getrandom, &value, sizeof value, 0);
    if (n == (long)sizeof value) return value;
    if (n < 0 && errno != EINTR) {
      /* getrandom exists since Linux 3.17; BPF needs far newer. Never reached in practice. */
      return (uint32_t)(uintptr_t)&value ^ (uint32_t)syscall(SYS_gettid);
    }
  }
}
