"""`vulntune run` and `vulntune demo`: the whole pipeline, from scanner reports to a report.

The top orchestration layer: it calls findings, datasets, runs, training and evaluation in
order, records which steps are done in the run (``pipeline/state.json``) so that a stopped
pipeline can be resumed, and shows one progress display for all of it.
"""

# The demo's base model lives here, not in pipeline.demo, so that the CLI can show it as the
# default of `vulntune demo --base-model` without importing the pipeline (a third of every
# command's start-up).
DEMO_BASE_MODEL = "smollm2-135m"
