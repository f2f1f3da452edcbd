"""Loading a causal LM, attaching LoRA exactly as configured, and saving the results.

The configured rank, alpha, dropout and target modules are passed through verbatim and
checked against the model: a target module name that matches nothing is an error, not a
silently smaller adapter.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from vulntune.errors import VulntuneError
from vulntune.runs.config import LoraSettings
from vulntune.training.hf_logging import quiet_library_output


class ModelLoadError(VulntuneError):
    """A checkpoint or adapter that cannot be loaded as the run requires."""


def resolve_device(setting: str) -> torch.device:
    """``auto`` picks CUDA when present, else the CPU."""
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


def resolve_precision(setting: str, device: torch.device) -> str:
    """``auto`` means bf16 autocast where the hardware does bf16 natively, else fp32."""
    if setting != "auto":
        return setting
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp32"
    return "bf16" if cpu_supports_bf16() else "fp32"


def load_model_and_tokenizer(model_dir: Path) -> tuple[Any, Any]:
    """Load a float32 causal LM and its tokenizer from a local checkpoint directory."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    quiet_library_output()
    try:
        tokenizer = AutoTokenizer.from_pretrained(model_dir)
        model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"{model_dir}: cannot load model: {exc}") from None
    if tokenizer.pad_token_id is None:
        # Padding positions are masked out of attention and loss, so any id will do.
        tokenizer.pad_token = tokenizer.eos_token
    return model, tokenizer


def enable_activation_checkpointing(model: Any) -> None:
    """Recompute each decoder layer's activations in the backward pass.

    Non-reentrant checkpointing works when the inputs need no gradient (frozen embeddings).
    transformers 5 renamed the method; older releases only have the old name.
    """
    kwargs = {"use_reentrant": False}
    if hasattr(model, "activation_checkpointing_enable"):
        model.activation_checkpointing_enable(activation_checkpointing_kwargs=kwargs)
    else:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs=kwargs)


def _linear_module_names(model: Any) -> set[str]:
    return {
        name.rsplit(".", 1)[-1]
        for name, module in model.named_modules()
        if isinstance(module, torch.nn.Linear)
    }


def attach_lora(model: Any, lora: LoraSettings, init_adapter: Path | None = None) -> Any:
    """Wrap ``model`` with a trainable LoRA adapter: a fresh one, or ``init_adapter``
    (``continue`` mode), which must have been made with the same LoRA settings."""
    from peft import LoraConfig, PeftModel, get_peft_model

    available = _linear_module_names(model)
    missing = [t for t in lora.target_modules if t not in available]
    if missing:
        raise ModelLoadError(
            f"LoRA target module(s) {missing} do not exist in this model; "
            f"its linear layers are named {sorted(available)}"
        )
    if init_adapter is not None:
        peft_model = PeftModel.from_pretrained(model, init_adapter, is_trainable=True)
        cfg = peft_model.peft_config["default"]
        found = (cfg.r, float(cfg.lora_alpha), sorted(cfg.target_modules))
        wanted = (lora.rank, float(lora.alpha), sorted(lora.target_modules))
        if found != wanted:
            raise ModelLoadError(
                f"{init_adapter}: adapter has (rank, alpha, targets) {found} but the run is "
                f"configured for {wanted}; continue mode needs identical LoRA settings"
            )
        return peft_model
    config = LoraConfig(
        r=lora.rank,
        lora_alpha=lora.alpha,
        lora_dropout=lora.dropout,
        target_modules=list(lora.target_modules),
        bias="none",
        task_type="CAUSAL_LM",
    )
    return get_peft_model(model, config)


def trainable_parameters(model: Any) -> dict[str, torch.nn.Parameter]:
    """The parameters the optimizer updates (the LoRA matrices), by name."""
    return {n: p for n, p in model.named_parameters() if p.requires_grad}


def save_adapter(peft_model: Any, out_dir: Path) -> None:
    """Write a PEFT adapter directory (adapter_config.json + adapter_model.safetensors)."""
    peft_model.save_pretrained(out_dir, safe_serialization=True)


def save_merged(peft_model: Any, tokenizer: Any, out_dir: Path) -> None:
    """Merge the adapter into the base weights and write a plain checkpoint.

    This consumes ``peft_model``: its base weights are modified in place.
    """
    merged = peft_model.merge_and_unload()
    merged.save_pretrained(out_dir, safe_serialization=True)
    tokenizer.save_pretrained(out_dir)
