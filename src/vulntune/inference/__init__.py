"""Using a trained model: greedy generation, prompted with the run's prompt format."""
