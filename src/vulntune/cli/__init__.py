"""Command line: a thin layer that parses arguments, calls library functions, prints results.

Every command's work lives in an importable function; the modules here only translate between
the terminal and those functions. `root.py` holds the app and the conventions all commands
follow; each command (or group) has its own module, registered below in pipeline order.
"""

from vulntune.cli import (
    analyze,
    datasets,
    demo,
    evaluate,
    export,
    ingest,
    publish,
    run,
    runs,
    train,
)
from vulntune.cli.root import app, main

app.command("ingest")(ingest.ingest_command)
app.command("datasets")(datasets.datasets_command)
app.add_typer(runs.runs_app, name="runs")
app.command("train")(train.train_command)
app.command("evaluate")(evaluate.evaluate_command)
app.command("run")(run.run_command)
app.command("demo")(demo.demo_command)
app.command("analyze")(analyze.analyze_command)
app.command("export")(export.export_command)
app.command("publish")(publish.publish_command)

__all__ = ["app", "main"]
