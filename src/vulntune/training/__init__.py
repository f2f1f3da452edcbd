"""Fine-tuning: base models, the PyTorch/PEFT backend, stage runners, SequentialFineTuner."""
