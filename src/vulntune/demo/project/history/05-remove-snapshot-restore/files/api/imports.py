"""Bulk imports: carrier manifests (YAML or XLSX)."""

import subprocess

import yaml

from settings import IMPORT_DIR


def load_manifest(data):
    manifest = yaml.safe_load(data)
    if "parcels" not in manifest:
        raise ValueError("manifest has no parcels")
    return manifest


def convert_manifest(filename):
    """Convert a carrier's XLSX manifest to CSV with LibreOffice."""
    subprocess.run(
        "soffice --headless --convert-to csv " + filename + " --outdir " + IMPORT_DIR,
        shell=True,
        check=True,
    )
