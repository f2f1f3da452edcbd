"""Base models: resolution and cache, GGUF conversion, SmolLM2 and tiny-random, loading, prompts.

Everything here sits below the pipeline packages (datasets, runs, training, inference): they all
import it, and it imports none of them. Submodules are imported lazily by their users because
several of them pull in transformers.
"""
