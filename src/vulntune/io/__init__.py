"""Shared I/O below every layer: atomic publication of files and directories, locks, and reading
archives (gzip, zip, tar) safely."""
