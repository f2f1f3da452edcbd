"""Finding -> stage examples: built-in example sets, reading and splitting, replay mixing."""
