"""Peak memory in MiB whatever unit the platform's getrusage reports."""

from __future__ import annotations

import resource
import sys
from types import SimpleNamespace

import pytest
import torch

from vulntune.training.metrics import peak_memory_mb

GIB = 2**30


@pytest.mark.parametrize(
    ("platform", "ru_maxrss"),
    [("darwin", GIB), ("linux", GIB // 1024), ("freebsd14", GIB // 1024)],
)
def test_peak_memory_is_in_mib_on_every_platform(monkeypatch, platform, ru_maxrss):
    monkeypatch.setattr(sys, "platform", platform)
    monkeypatch.setattr(resource, "getrusage", lambda _who: SimpleNamespace(ru_maxrss=ru_maxrss))
    assert peak_memory_mb(torch.device("cpu")) == 1024.0
