"""Training runs: the manifest contract, configuration, run directories and their artifacts."""
