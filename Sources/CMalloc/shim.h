// glibc's malloc tuning (mallopt), for the CPU backend's host buffers. Part of libc: nothing to link.
#if defined(__linux__) && __has_include(<malloc.h>)
#include <malloc.h>
#endif
