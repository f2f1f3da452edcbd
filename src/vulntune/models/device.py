"""Where a model runs and in which precision: the `device` and `precision` settings resolved."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

from vulntune.errors import VulntuneError

if TYPE_CHECKING:
    import torch

# The settings as a configuration names them (closed sets, checked by the config model), and the
# precision a run trains in once "auto" is decided. Importing them does not import torch.
DeviceSetting = Literal["auto", "cpu", "cuda"]
PrecisionSetting = Literal["auto", "fp32", "bf16"]
Precision = Literal["fp32", "bf16"]


def resolve_device(setting: DeviceSetting) -> torch.device:
    """``auto`` picks CUDA when present, else the CPU."""
    import torch

    if setting == "cuda" and not torch.cuda.is_available():
        raise VulntuneError("config device = 'cuda' but no CUDA device is available")
    if setting == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(setting)


def cpu_supports_bf16() -> bool:
    """True when the CPU has native bf16 instructions (AVX512-BF16 or AMX), where bf16
    autocast roughly doubles training speed; elsewhere it is emulated and slower."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return any(flag in flags for flag in (" avx512_bf16", " amx_bf16"))


def resolve_precision(setting: PrecisionSetting, device: torch.device) -> Precision:
    """``auto`` means bf16 autocast where the hardware does bf16 natively, else fp32."""
    import torch

    if setting != "auto":
        return setting
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp32"
    return "bf16" if cpu_supports_bf16() else "fp32"
