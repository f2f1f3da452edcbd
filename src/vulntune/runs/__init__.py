"""Training runs: the manifest contract, run directories, atomic publication, locks."""
