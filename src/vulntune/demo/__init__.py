"""The demo: an example project with a git history that fixes real findings, and the scanner
reports made on it (see ``demo/README.md``)."""

from vulntune.demo.project import (
    DemoProjectError,
    DemoRepository,
    Revision,
    build_demo_repository,
    reports_dir,
)

__all__ = [
    "DemoProjectError",
    "DemoRepository",
    "Revision",
    "build_demo_repository",
    "reports_dir",
]
