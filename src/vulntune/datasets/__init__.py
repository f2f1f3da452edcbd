"""Training examples: reading, validating and splitting JSONL files, built-in sets, replay."""
