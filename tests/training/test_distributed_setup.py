"""Launching more processes than a machine has GPUs is refused before any work."""

from __future__ import annotations

import pytest
import torch
import torch.distributed as dist

from vulntune.training.distributed import DistributedSetupError, init_distributed


def _launched(monkeypatch, world: int, local_rank: int, local_world: int | None) -> None:
    """The environment torchrun gives one of its processes."""
    monkeypatch.setenv("WORLD_SIZE", str(world))
    monkeypatch.setenv("RANK", str(local_rank))
    monkeypatch.setenv("LOCAL_RANK", str(local_rank))
    if local_world is None:
        monkeypatch.delenv("LOCAL_WORLD_SIZE", raising=False)
    else:
        monkeypatch.setenv("LOCAL_WORLD_SIZE", str(local_world))


@pytest.fixture
def no_process_group(monkeypatch):
    """Record process-group joins instead of making them; report none joined yet."""
    joined: list[str] = []
    monkeypatch.setattr(dist, "is_initialized", lambda: False)
    monkeypatch.setattr(dist, "init_process_group", lambda backend: joined.append(backend))
    monkeypatch.setattr(torch.cuda, "set_device", lambda index: None)
    return joined


@pytest.mark.parametrize("local_rank", [0, 1])
def test_two_processes_on_one_gpu_are_refused_in_every_process(
    monkeypatch, no_process_group, local_rank
):
    _launched(monkeypatch, world=2, local_rank=local_rank, local_world=2)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    with pytest.raises(DistributedSetupError) as info:
        init_distributed(torch.device("cuda"))
    assert str(info.value) == (
        "2 training processes were started on this machine but it has 1 CUDA device(s), one "
        "per process is needed; start at most 1 (torchrun --nproc_per_node=1), or set "
        'device = "cpu" in the run\'s configuration to train data-parallel on the CPU'
    )
    assert no_process_group == []  # refused before joining anything


def test_a_launcher_without_local_world_size_is_checked_by_local_rank(
    monkeypatch, no_process_group
):
    _launched(monkeypatch, world=4, local_rank=2, local_world=None)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    with pytest.raises(DistributedSetupError, match="3 training processes"):
        init_distributed(torch.device("cuda"))


def test_one_process_per_gpu_joins_with_nccl(monkeypatch, no_process_group):
    _launched(monkeypatch, world=2, local_rank=1, local_world=2)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    ctx = init_distributed(torch.device("cuda"))
    assert no_process_group == ["nccl"]
    assert (ctx.rank, ctx.world_size, ctx.device) == (1, 2, torch.device("cuda", 1))


def test_on_the_cpu_more_processes_than_gpus_run_with_gloo(monkeypatch, no_process_group):
    _launched(monkeypatch, world=2, local_rank=1, local_world=2)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    ctx = init_distributed(torch.device("cpu"))
    assert no_process_group == ["gloo"]
    assert ctx.device == torch.device("cpu")
