"""Keeping a CPU training process's resident memory close to what its tensors need.

glibc's malloc serves blocks under its mmap threshold from heap arenas and keeps freed
memory there for reuse. Its threshold adapts upwards (to 32 MiB on 64-bit) each time a
large block is freed, so after the first step nearly every activation of a small model
(8 x 639 tokens x 576 floats = 12 MiB) lands in an arena; the arenas then hold the peak of
every step's activations plus their fragmentation, per thread. A fixed threshold stops the
adaptation: large tensors are mapped and unmapped directly and their pages go back to the
system when freed. Small allocations are unaffected.

This is applied by vulntune itself at the start of training (not left to the user), only
where the C library is glibc; elsewhere it does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from dataclasses import dataclass

# mallopt parameters (glibc malloc.h)
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8

# Blocks of at least this many bytes are mapped directly: every activation of a realistic
# batch, none of the small bookkeeping allocations.
MMAP_THRESHOLD_BYTES = 1 << 20
# Free memory at the top of a heap beyond this is returned to the system.
TRIM_THRESHOLD_BYTES = 64 << 20


@dataclass(frozen=True)
class AllocatorSetup:
    """What `configure_allocator` did: ``applied`` is False where malloc is not glibc's."""

    applied: bool
    mmap_threshold: int | None
    arena_max: int | None


def _glibc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None
    if not hasattr(libc, "gnu_get_libc_version") or not hasattr(libc, "mallopt"):
        return None  # musl and others: their malloc has no such knobs
    return libc


def configure_allocator(arena_max: int = 2) -> AllocatorSetup:
    """Fix glibc's mmap threshold and cap its arenas, so freed activations leave the process.

    Idempotent; safe to call before or after tensors exist (it changes future allocations).
    """
    libc = _glibc()
    if libc is None:
        return AllocatorSetup(False, None, None)
    libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)
    libc.mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES)
    libc.mallopt(_M_ARENA_MAX, arena_max)
    return AllocatorSetup(True, MMAP_THRESHOLD_BYTES, arena_max)


def release_free_memory() -> bool:
    """Return free heap memory to the system (``malloc_trim``); False where not glibc."""
    libc = _glibc()
    if libc is None:
        return False
    libc.malloc_trim(0)
    return True


# Activations a CPU micro-batch may keep for its backward pass before it is cut in pieces.
ACTIVATION_BUDGET_BYTES = 4 << 30
# Tensors a decoder layer keeps per token for backward, in units of the hidden and the MLP
# width: residual stream, norms, q/k/v, attention output and the LoRA inputs (~12 hidden
# wide); gate, up, SiLU(gate) and their product (4 MLP wide). fp32 bytes, the larger case.
_HIDDEN_WIDE, _MLP_WIDE, _BYTES = 12, 4, 4


def activation_bytes_per_token(config: object) -> int | None:
    """Bytes a decoder-only transformer keeps per token for backward (an estimate), or None
    when the configuration does not say its layers, hidden and MLP sizes."""
    layers = getattr(config, "num_hidden_layers", None)
    hidden = getattr(config, "hidden_size", None)
    mlp = getattr(config, "intermediate_size", None)
    if not all(isinstance(v, int) and v > 0 for v in (layers, hidden, mlp)):
        return None
    return layers * (_HIDDEN_WIDE * hidden + _MLP_WIDE * mlp) * _BYTES


def micro_batch_token_limit(
    config: object, device_type: str, budget_bytes: int = ACTIVATION_BUDGET_BYTES
) -> int | None:
    """Padded tokens a micro-batch may hold before it is cut (CPU only), or None for no cut.

    On a CPU the activations of a large micro-batch decide the process's peak memory (19 GB
    at 8 x 639 tokens on SmolLM2-135M), while half the rows still keep the matmuls efficient.
    Accelerators keep their configured micro-batch: there, larger is faster.
    """
    per_token = activation_bytes_per_token(config)
    if device_type != "cpu" or per_token is None:
        return None
    return max(1, budget_bytes // per_token)
