"""Keeping freed memory in the process, for CPU training speed.

PyTorch's CPU tensors come from the C library's ``malloc``. With glibc's defaults, blocks of
more than 128 KiB-32 MiB are mapped fresh from the OS and unmapped when freed, and the heap is
trimmed when its top is free, so the activations and gradients a training step allocates are
returned to the OS at the end of the step and page-faulted back in at the next one. For the
graph VAE on a 2-core machine that costs a few percent of every step. Raising the mmap and trim thresholds keeps the memory in the
process for reuse; the price is that the process does not shrink back after its peak, as
with the jemalloc/tcmalloc allocators PyTorch's CPU tuning guide suggests preloading.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

_M_TRIM_THRESHOLD = -1   # glibc's mallopt parameter numbers (malloc.h)
_M_MMAP_THRESHOLD = -3
_MMAP_THRESHOLD = 256 * 2**20
_TRIM_THRESHOLD = 2**30
_applied = False

DISABLE_VARIABLE = "GRAPHVAE_NAS_SYSTEM_MALLOC"


def retain_freed_memory() -> bool:
    """Ask glibc to keep freed blocks for reuse (see module docstring). Returns whether the
    setting is in effect: ``False`` on other C libraries and when the environment variable
    ``GRAPHVAE_NAS_SYSTEM_MALLOC=1`` asks to leave ``malloc`` alone. Safe to call repeatedly."""
    global _applied
    if _applied:
        return True
    if os.environ.get(DISABLE_VARIABLE) == "1" or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):   # not glibc (e.g. musl has no mallopt)
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    _applied = bool(mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD)) and bool(
        mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD))
    return _applied
