"""Using a trained model: generation with the run's prompt format (analysis, SARIF output)."""
