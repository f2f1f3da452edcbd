"""What LoRA dropout costs per training step, by placement, on a SmolLM2-shaped model.

    .venv/bin/python benchmarks/lora_dropout_cost.py                # 4 of 30 layers, 5 reps
    .venv/bin/python benchmarks/lora_dropout_cost.py --layers 30 --reps 3

Builds a Llama model with SmolLM2-135M's shapes (d 576, 9 heads / 3 KV heads, MLP 1536,
vocabulary 49152) and random weights, so it needs neither the model files nor their memory;
``--layers`` keeps the first N decoder layers (the per-layer costs are what differs). Attaches
vulntune's LoRA (r 16, alpha 32, the 7 projections) three times: dropout 0, dropout 0.05 on
the adapter input (PEFT's placement) and dropout 0.05 on the rank-r activation (vulntune's
default), and times forward + backward + AdamW step through vulntune's completion loss on one
fixed batch, in fp32 (the precision of a CPU without native bf16). The three variants are
interleaved in every repetition so that load from other processes hits them alike; medians
and the spread are printed.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from vulntune.runs.config import LoraSettings
from vulntune.training.batching import collate
from vulntune.training.encoding import EncodedExample
from vulntune.training.lora import attach_lora, trainable_parameters
from vulntune.training.loss import completion_loss_sum

SMOLLM2 = {
    "hidden_size": 576,
    "intermediate_size": 1536,
    "num_attention_heads": 9,
    "num_key_value_heads": 3,
    "vocab_size": 49152,
    "max_position_embeddings": 2048,
    "tie_word_embeddings": True,
}
VARIANTS = {"no dropout": (0.0, "rank"), "input (PEFT)": (0.05, "input"), "rank": (0.05, "rank")}


def _model(layers: int):
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(**SMOLLM2, num_hidden_layers=layers, attn_implementation="sdpa")
    return LlamaForCausalLM(config).float()


def _batch(batch_size: int, length: int, prompt: int):
    g = torch.Generator().manual_seed(1)
    rows = [
        EncodedExample(f"x{i}", torch.randint(1, 49152, (length,), generator=g).tolist(), prompt)
        for i in range(batch_size)
    ]
    return collate(rows, pad_id=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--length", type=int, default=320, help="tokens per example")
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    batch = _batch(args.batch, args.length, args.length // 2)
    setups = {}
    for name, (p, on) in VARIANTS.items():
        peft = attach_lora(_model(args.layers), LoraSettings(dropout=p, dropout_on=on))
        peft.train()
        optimizer = torch.optim.AdamW(list(trainable_parameters(peft).values()), lr=1e-4)
        setups[name] = (peft, optimizer)

    def step(name: str) -> float:
        peft, optimizer = setups[name]
        started = time.perf_counter()
        loss = completion_loss_sum(peft, batch) / batch.n_loss_tokens
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        return time.perf_counter() - started

    for name in setups:  # warm-up
        step(name)
    times: dict[str, list[float]] = {name: [] for name in setups}
    for rep in range(args.reps):
        order = list(setups)[rep % 3 :] + list(setups)[: rep % 3]
        for name in order:
            times[name].append(step(name))
    base = statistics.median(times["no dropout"])
    print(
        f"{args.layers} SmolLM2-shaped layers, batch {args.batch} x {args.length} tokens, fp32, "
        f"{args.threads} threads, {args.reps} interleaved reps"
    )
    for name, values in times.items():
        median = statistics.median(values)
        print(
            f"{name:13s} median {median:6.3f} s  (min {min(values):.3f}, max {max(values):.3f})"
            f"  {median / base - 1:+.1%} vs no dropout"
        )


if __name__ == "__main__":
    main()
