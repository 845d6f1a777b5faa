#ifndef CMAPPEDREAD_H
#define CMAPPEDREAD_H
#include <stddef.h>

// Reading a file through a mapping, safely when the file shrinks meanwhile: a page past the new end would raise SIGBUS
// and kill the process. Between cmapped_guard_begin and cmapped_guard_end, such a page of the guarded range is
// replaced by zeros instead, and cmapped_guard_end says it happened (the caller then treats the read as failed).
// The guard belongs to the calling thread. cmapped_install installs the handler once (any earlier SIGBUS handler
// still gets every fault outside a guarded range).
int cmapped_install(void);
void cmapped_guard_begin(const void *start, size_t length);
// 1 when a page of the range was gone (the bytes read are not the file's), else 0.
int cmapped_guard_end(void);
#endif
