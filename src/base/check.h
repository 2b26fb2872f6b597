// POSTBOX_CHECK: an always-on assertion for invariants that only a bug can break.
// Acknowledged data is already on disk, so aborting loses nothing.
#pragma once

#include <cstdio>
#include <cstdlib>

#define POSTBOX_CHECK(cond)                                                         \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                 \
    }                                                                               \
  } while (false)
