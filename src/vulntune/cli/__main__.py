"""`python -m vulntune.cli`, the same as `python -m vulntune` and the `vulntune` script."""

from vulntune.cli import main

main()
