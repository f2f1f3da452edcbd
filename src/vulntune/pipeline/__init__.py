"""`vulntune run` and `vulntune demo`: the whole pipeline, from scanner reports to a report.

The top orchestration layer: it calls findings, datasets, runs, training and evaluation in
order, records which steps are done in the run (``pipeline/state.json``) so that a stopped
pipeline can be resumed, and shows one progress display for all of it.
"""
