"""Configuration of the tinyparcel API."""

import os

import yaml

DATABASE = os.environ.get("TINYPARCEL_DB", "tinyparcel.db")
LABEL_DIR = "/var/lib/tinyparcel/labels"
IMPORT_DIR = "/tmp/tinyparcel-imports"
CARRIER_API = "https://carriers.example.net/v1/track"
WEBHOOK_URL = "https://hooks.example.net/tinyparcel"

SECRET_KEY = "changeme"
DB_PASSWORD = "postgres"


def load_overrides(path):
    """Settings that operators override per deployment, from a YAML file."""
    with open(path) as handle:
        return yaml.load(handle, Loader=yaml.FullLoader)
