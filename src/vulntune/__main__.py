"""`python -m vulntune` (also `torchrun -m vulntune train RUN`)."""

from vulntune.cli import main

main()
