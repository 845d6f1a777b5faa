#define _GNU_SOURCE
#include "CMappedRead.h"
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static __thread const char *guard_start;
static __thread size_t guard_length;
static __thread volatile sig_atomic_t guard_faulted;
static struct sigaction previous;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static int installed;

static void on_sigbus(int signo, siginfo_t *info, void *context) {
    const char *address = (const char *)info->si_addr;
    if (guard_start && address >= guard_start && address < guard_start + guard_length) {
        // Only mmap and sysconf here: both are plain system calls, safe in a handler.
        long page = sysconf(_SC_PAGESIZE);
        void *base = (void *)((uintptr_t)address & ~(uintptr_t)(page - 1));
        if (mmap(base, (size_t)page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != MAP_FAILED) {
            guard_faulted = 1;
            return;  // the read that faulted runs again and finds zeros
        }
    }
    if (previous.sa_flags & SA_SIGINFO) {
        if (previous.sa_sigaction) { previous.sa_sigaction(signo, info, context); return; }
    } else if (previous.sa_handler != SIG_DFL && previous.sa_handler != SIG_IGN) {
        previous.sa_handler(signo);
        return;
    }
    // Nobody else handles it: the default action, as if this handler had never been there.
    signal(SIGBUS, SIG_DFL);
}

static void install(void) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = on_sigbus;
    action.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&action.sa_mask);
    installed = sigaction(SIGBUS, &action, &previous) == 0;
}

int cmapped_install(void) {
    pthread_once(&once, install);
    return installed ? 0 : -1;
}

void cmapped_guard_begin(const void *start, size_t length) {
    guard_faulted = 0;
    guard_length = length;
    guard_start = (const char *)start;
}

int cmapped_guard_end(void) {
    guard_start = 0;
    guard_length = 0;
    return guard_faulted ? 1 : 0;
}
