"""Data parallelism through the standard PyTorch launchers.

``torchrun --nproc_per_node=N`` and ``accelerate launch`` both set RANK / WORLD_SIZE /
LOCAL_RANK / MASTER_ADDR; when WORLD_SIZE > 1 we join the process group (gloo on CPU, nccl
on GPUs). Each process runs the same code on its share of every optimizer step; gradients
of the LoRA parameters are summed across processes before the step, and rank 0 alone writes
artifacts. One process is simply the world of size one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist

from vulntune.errors import VulntuneError


class DistributedSetupError(VulntuneError):
    """The launcher started processes this machine cannot give a device each."""


@dataclass(frozen=True)
class DistContext:
    rank: int
    world_size: int
    local_rank: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def active(self) -> bool:
        return self.world_size > 1

    def barrier(self) -> None:
        if self.active:
            dist.barrier()

    def sum_(self, tensor: torch.Tensor) -> torch.Tensor:
        """All-reduce ``tensor`` in place (sum); a no-op for a single process."""
        if self.active:
            dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
        return tensor

    def sum_floats(self, *values: float) -> list[float]:
        """Sum a few Python numbers across processes (in float64)."""
        t = torch.tensor(values, dtype=torch.float64, device=self.device)
        return self.sum_(t).tolist()

    def broadcast_object(self, obj: Any) -> Any:
        """Rank 0's ``obj`` on every rank."""
        if not self.active:
            return obj
        box = [obj]
        dist.broadcast_object_list(box, src=0)
        return box[0]

    def gather_objects(self, obj: Any) -> list[Any]:
        """Every rank's ``obj``, in rank order (on every rank)."""
        if not self.active:
            return [obj]
        out: list[Any] = [None] * self.world_size
        dist.all_gather_object(out, obj)
        return out


def init_distributed(device: torch.device) -> DistContext:
    """Join the process group the launcher describes, if any.

    On CUDA every process needs a GPU of its own: more processes on a machine than it has GPUs
    is refused before anything is loaded (on the CPU any number of processes can run, gloo).
    """
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if world > 1 and device.type == "cuda":
        per_machine = int(os.environ.get("LOCAL_WORLD_SIZE", str(local_rank + 1)))
        gpus = torch.cuda.device_count()
        if max(per_machine, local_rank + 1) > gpus:
            raise DistributedSetupError(
                f"{max(per_machine, local_rank + 1)} training processes were started on this "
                f"machine but it has {gpus} CUDA device(s), one per process is needed; start at "
                f'most {gpus} (torchrun --nproc_per_node={gpus}), or set device = "cpu" in the '
                "run's configuration to train data-parallel on the CPU"
            )
    if world > 1 and not dist.is_initialized():
        if device.type == "cuda":
            torch.cuda.set_device(local_rank)
            device = torch.device("cuda", local_rank)
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    return DistContext(rank, world, local_rank, device)


def shutdown_distributed() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()
