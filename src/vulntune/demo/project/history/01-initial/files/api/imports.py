"""Bulk imports: carrier manifests (YAML or XLSX) and cache snapshots."""

import pickle
import subprocess

import yaml

from settings import IMPORT_DIR


def load_manifest(data):
    manifest = yaml.load(data, Loader=yaml.Loader)
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


def restore_snapshot(blob):
    """Load a parcel cache snapshot written by an older API instance."""
    state = pickle.loads(blob)
    return {"restored": len(state)}
