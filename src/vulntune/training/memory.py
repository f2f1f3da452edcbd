"""Keeping a CPU training step's memory bounded without paying for it in speed.

The peak is the activations one forward pass keeps for backward: a micro-batch whose estimate
exceeds a budget runs in pieces (`micro_batch_token_limit`, used by the loop).

The allocator decides how much of that the process keeps and what each step costs. glibc's
malloc maps blocks above its mmap threshold directly and unmaps them when freed; the threshold
adapts upwards only to 32 MiB, and trimming gives the top of the heap back to the system.
Memory handed back is faulted in and zeroed again on the next step: on this kind of virtual
machine writing into fresh pages cost ~0.7 s/GB against ~0.12 s/GB for reused memory, and a
training step allocates many GB. So vulntune keeps freed blocks for reuse instead: every block
of a step up to 32 MiB (every activation of a CPU-sized piece) comes from the heap, the heap
is not trimmed, and arenas are capped so that threads share them rather than each keeping its
own high-water mark. The process then stays at its largest step's footprint, which the
micro-batch limit bounds.

Applied by vulntune itself at the start of training (not left to the user), only where the C
library is glibc; elsewhere it does nothing.
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

# Only blocks above this are mapped directly (and unmapped when freed): glibc's largest
# threshold (HEAP_MAX_SIZE / 2 on 64-bit), above every activation of a CPU-sized piece.
MMAP_THRESHOLD_BYTES = 32 << 20
# Free memory at the top of a heap is kept up to this much rather than trimmed and refaulted.
TRIM_THRESHOLD_BYTES = 1 << 30


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
    """Make glibc keep freed activations for reuse and cap its arenas (see the module doc).

    Idempotent; safe to call before or after tensors exist (it changes future allocations).
    """
    libc = _glibc()
    if libc is None:
        return AllocatorSetup(False, None, None)
    accepted = [
        libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES),
        libc.mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES),
        libc.mallopt(_M_ARENA_MAX, arena_max),
    ]
    if not all(accepted):  # mallopt returns 0 for a value it refuses
        return AllocatorSetup(False, None, None)
    return AllocatorSetup(True, MMAP_THRESHOLD_BYTES, arena_max)


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
