"""What model acquisition prints: transformers kept quiet, long one-time steps reported."""

from __future__ import annotations

import sys
import warnings


def quiet_library_output() -> None:
    """Silence transformers' progress bars and info logs: vulntune shows its own progress."""
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    # PEFT calls a transformers API that transformers 5 deprecates; nothing for users to do.
    warnings.filterwarnings(
        "ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning
    )


def report_progress(message: str) -> None:
    """One status line on stderr for a long one-time step; silent when stderr is not a terminal."""
    if sys.stderr.isatty():
        print(f"vulntune: {message}", file=sys.stderr, flush=True)
