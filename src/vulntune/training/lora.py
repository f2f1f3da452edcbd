"""Attaching LoRA exactly as configured, and saving the adapter and the merged model.

The configured rank, alpha, dropout and target modules are passed through verbatim and
checked against the model: a target module name that matches nothing is an error, not a
silently smaller adapter.

Dropout placement (``lora.dropout_on``). PEFT drops the adapter's input, ``B(A(drop(x)))``:
one Bernoulli mask over the full hidden size per token for every adapted layer, which cost a
quarter of a CPU training step on SmolLM2. ``"rank"`` (the default) drops the r-dimensional
activation instead, ``B(drop(A(x)))``: r values per token (16 instead of 576 or 1536), so its
cost disappears. Both are unbiased (the expected update equals the dropout-free one) and both
switch off at evaluation; they are not the same noise: input dropout perturbs which input
features each adapter sees, rank dropout which of its r directions contribute. Merged and
saved adapters are identical in form (dropout holds no weights).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import torch

from vulntune.models.errors import ModelLoadError
from vulntune.runs.config import LoraSettings

if TYPE_CHECKING:
    from peft import PeftModel
    from transformers import PreTrainedModel, PreTrainedTokenizerBase


def enable_activation_checkpointing(model: PreTrainedModel) -> None:
    """Recompute each decoder layer's activations in the backward pass.

    Non-reentrant recomputation works when the inputs need no gradient (frozen embeddings).
    transformers 5 renamed the method; older releases only have the old name.
    """
    kwargs = {"use_reentrant": False}
    if hasattr(model, "activation_checkpointing_enable"):
        model.activation_checkpointing_enable(activation_checkpointing_kwargs=kwargs)
    else:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs=kwargs)


def _linear_module_names(model: PreTrainedModel) -> set[str]:
    return {
        name.rsplit(".", 1)[-1]
        for name, module in model.named_modules()
        if isinstance(module, torch.nn.Linear)
    }


def attach_lora(
    model: PreTrainedModel, lora: LoraSettings, init_adapter: Path | None = None
) -> PeftModel:
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
    layers = adapted_layers(model, lora)
    if init_adapter is not None:
        peft_model = PeftModel.from_pretrained(model, init_adapter, is_trainable=True)
        cfg = peft_model.peft_config["default"]
        found = (cfg.r, float(cfg.lora_alpha), sorted(cfg.target_modules), _layers(cfg))
        wanted = (lora.rank, float(lora.alpha), sorted(lora.target_modules), layers)
        if found != wanted:
            raise ModelLoadError(
                f"{init_adapter}: adapter has (rank, alpha, targets, layers) {found} but the run "
                f"is configured for {wanted}; continue mode needs identical LoRA settings"
            )
    else:
        config = LoraConfig(
            r=lora.rank,
            lora_alpha=lora.alpha,
            lora_dropout=lora.dropout,
            target_modules=list(lora.target_modules),
            layers_to_transform=layers,
            bias="none",
            task_type="CAUSAL_LM",
        )
        peft_model = get_peft_model(model, config)
    if lora.dropout > 0 and lora.dropout_on == "rank":
        _move_dropout_to_rank(peft_model, lora.dropout)
    return peft_model


def adapted_layers(model: PreTrainedModel, lora: LoraSettings) -> list[int] | None:
    """Indices of the decoder layers that get an adapter (``lora.last_layers``), None for all."""
    if lora.last_layers is None:
        return None
    total = getattr(model.config, "num_hidden_layers", None)
    if not isinstance(total, int):
        raise ModelLoadError(
            "lora.last_layers needs the model's number of decoder layers, but its config has "
            "no num_hidden_layers; remove lora.last_layers to adapt every layer"
        )
    if lora.last_layers > total:
        raise ModelLoadError(
            f"lora.last_layers = {lora.last_layers}, but the model has only {total} decoder "
            "layers; use at most that many, or null for all"
        )
    return list(range(total - lora.last_layers, total))


def _layers(cfg: object) -> list[int] | None:
    """The layer indices a saved adapter was made for (None: all), as a sorted list."""
    found = getattr(cfg, "layers_to_transform", None)
    if found is None:
        return None
    return sorted([found] if isinstance(found, int) else found)


class _RankDropout:
    """A forward hook on ``lora_A``: dropout on its output while the module trains."""

    def __init__(self, p: float) -> None:
        self.p = p

    def __call__(
        self, module: torch.nn.Module, _inputs: tuple[torch.Tensor, ...], output: torch.Tensor
    ) -> torch.Tensor:
        return torch.nn.functional.dropout(output, self.p, module.training)


def _move_dropout_to_rank(peft_model: PeftModel, p: float) -> None:
    """Replace PEFT's input dropout of every LoRA layer by dropout on ``A x``."""
    from peft.tuners.lora import LoraLayer

    for module in peft_model.modules():
        if not isinstance(module, LoraLayer):
            continue
        for name in list(module.lora_dropout.keys()):
            module.lora_dropout[name] = torch.nn.Identity()
            module.lora_A[name].register_forward_hook(_RankDropout(p))


def trainable_parameters(model: PeftModel) -> dict[str, torch.nn.Parameter]:
    """The parameters the optimizer updates (the LoRA matrices), by name."""
    return {n: p for n, p in model.named_parameters() if p.requires_grad}


def save_adapter(peft_model: PeftModel, out_dir: Path) -> None:
    """Write a PEFT adapter directory (adapter_config.json + adapter_model.safetensors)."""
    peft_model.save_pretrained(out_dir, safe_serialization=True)


def save_merged(peft_model: PeftModel, tokenizer: PreTrainedTokenizerBase, out_dir: Path) -> None:
    """Merge the adapter into the base weights and write a plain model directory.

    This consumes ``peft_model``: its base weights are modified in place.
    """
    merged = peft_model.merge_and_unload()
    merged.save_pretrained(out_dir, safe_serialization=True)
    tokenizer.save_pretrained(out_dir)
