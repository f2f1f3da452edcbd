"""Peak memory of vulntune's training step at one batch shape (issue 8: batch 8 x 639).

    .venv/bin/python benchmarks/train_memory.py                       # smollm2-135m, 8 x 639
    .venv/bin/python benchmarks/train_memory.py --model tiny-random --steps 1

Loads the model the way the engine does (``load_model_and_tokenizer``, ``attach_lora`` with the
default LoRA settings), then runs optimizer steps of ``completion_loss_sum`` + backward + AdamW
on one full batch of ``--batch`` rows of ``--length`` real tokens (the second half of each row
scored, as in the built-in data where 47% of tokens are completion), cut into pieces by
``split_micro_batch`` with the CPU limit of ``micro_batch_token_limit`` as the loop does.
Prints the peak RSS (``ru_maxrss``) after loading and after the steps, the seconds per
step, and the attention implementation the model uses.
"""

from __future__ import annotations

import argparse
import json
import resource
import time

import torch


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--length", type=int, default=639)
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--default-malloc", action="store_true", help="skip configure_allocator")
    parser.add_argument("--no-split", action="store_true", help="one piece, whatever its size")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    from vulntune.models.loading import load_model_and_tokenizer
    from vulntune.models.resolve import resolve_model
    from vulntune.runs.config import TrainingConfig
    from vulntune.training.batching import collate, split_micro_batch
    from vulntune.training.encoding import EncodedExample
    from vulntune.training.lora import attach_lora, trainable_parameters
    from vulntune.training.loss import completion_loss_sum
    from vulntune.training.memory import configure_allocator, micro_batch_token_limit

    if not args.default_malloc:
        configure_allocator()
    config = TrainingConfig.from_mapping({})
    torch.manual_seed(0)
    loaded = load_model_and_tokenizer(resolve_model(args.model).path)
    model = attach_lora(loaded.model, config.lora)
    model.train()
    params = list(trainable_parameters(model).values())
    optimizer = torch.optim.AdamW(params, lr=2e-4)
    after_load = _rss_mb()

    vocab = loaded.model.config.vocab_size
    examples = [
        EncodedExample(str(i), torch.randint(0, vocab, (args.length,)).tolist(), args.length // 2)
        for i in range(args.batch)
    ]
    limit = None if args.no_split else micro_batch_token_limit(loaded.model.config, "cpu")
    pieces = split_micro_batch(range(args.batch), [args.length] * args.batch, limit)
    pad = loaded.tokenizer.pad_token_id
    batches = [collate([examples[i] for i in piece], pad) for piece in pieces]
    n_loss = sum(b.n_loss_tokens for b in batches)
    seconds = []
    for _ in range(args.steps):
        started = time.perf_counter()
        total = 0.0
        for batch in batches:
            loss = completion_loss_sum(model, batch) / n_loss
            loss.backward()
            total += float(loss.detach())
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        seconds.append(time.perf_counter() - started)
    print(
        json.dumps(
            {
                "model": args.model,
                "attn_implementation": loaded.model.config._attn_implementation,
                "batch": [args.batch, args.length],
                "pieces": [len(p) for p in pieces],
                "allocator": "glibc default" if args.default_malloc else "configure_allocator",
                "rss_after_load_mb": round(after_load),
                "peak_rss_mb": round(_rss_mb()),
                "step_s": [round(s, 2) for s in seconds],
                "loss": total,
            }
        )
    )


if __name__ == "__main__":
    main()
