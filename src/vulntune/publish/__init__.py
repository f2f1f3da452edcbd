"""Shipping a trained run: export (HF layout with a model card, GGUF) and push to a hub."""
