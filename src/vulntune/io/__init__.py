"""Shared I/O below every layer: atomic publication of files and directories, and locks."""
