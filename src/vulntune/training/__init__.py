"""Fine-tuning: the PyTorch/PEFT backend, the loop, loss, batching, trainer-state checkpoints,
data-parallel processes, stage runners and SequentialFineTuner. Base models come from
`vulntune.models`."""
