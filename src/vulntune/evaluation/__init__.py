"""Measuring a run's models on its test split: metrics, baselines, retention, the report.

Evaluation sits below inference: it does not load models itself but takes a generator
factory (``vulntune.inference.load_generator`` satisfies :class:`~.evaluate.Completer`), so
that its metrics never depend on how text was produced.
"""
