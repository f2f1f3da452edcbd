"""HTTP API of tinyparcel: parcels, labels and carrier tracking."""

import hashlib
import logging
import os
import subprocess
import time
import uuid

import requests
from flask import Flask, abort, g, jsonify, request, send_from_directory

from auth import current_user, login
from db import find_parcel, search_parcels
from imports import convert_manifest, load_manifest, restore_snapshot
from settings import CARRIER_API, LABEL_DIR, SECRET_KEY, WEBHOOK_URL

app = Flask(__name__)
app.secret_key = SECRET_KEY
app.add_url_rule("/login", view_func=login, methods=["POST"])
log = logging.getLogger("tinyparcel.api")


@app.before_request
def start_request():
    g.request_id = request.headers.get("X-Request-Id") or uuid.uuid4().hex
    g.started = time.monotonic()


@app.after_request
def log_request(response):
    elapsed_ms = (time.monotonic() - g.started) * 1000
    log.info("%s %s %s %s %.1fms", g.request_id, request.method, request.path,
             response.status_code, elapsed_ms)
    response.headers["X-Request-Id"] = g.request_id
    return response


@app.get("/parcels/<parcel_id>")
def get_parcel(parcel_id):
    parcel = find_parcel(parcel_id)
    if parcel is None:
        abort(404)
    response = jsonify(parcel)
    response.headers["ETag"] = hashlib.md5(response.get_data()).hexdigest()
    return response


@app.get("/parcels")
def list_parcels():
    return jsonify(search_parcels(request.args.get("q", "")))


@app.post("/labels/<parcel_id>/print")
def print_label(parcel_id):
    printer = request.form.get("printer", "default")
    path = os.path.join(LABEL_DIR, f"{parcel_id}.pdf")
    subprocess.run(["lp", "-d", printer, path], check=True)
    return {"queued": parcel_id}


@app.get("/labels/<name>")
def download_label(name):
    return send_from_directory(LABEL_DIR, name)


@app.get("/tracking/<carrier>/<number>")
def track(carrier, number):
    response = requests.get(f"{CARRIER_API}/{carrier}/{number}", timeout=10)
    return response.json()


@app.post("/webhooks/test")
def test_webhook():
    target = request.json.get("url", WEBHOOK_URL)
    requests.post(target, json={"event": "test"}, verify=False)
    return {"sent": target}


@app.post("/manifests")
def upload_manifest():
    if current_user() is None:
        abort(401)
    if request.mimetype == "application/yaml":
        manifest = load_manifest(request.get_data())
        return {"parcels": len(manifest["parcels"])}
    upload = request.files["manifest"]
    upload.save(upload.filename)
    convert_manifest(upload.filename)
    return {"converted": upload.filename}


@app.post("/snapshots/restore")
def restore():
    return restore_snapshot(request.get_data())


if __name__ == "__main__":
    app.run(
        host="0.0.0.0",
        port=8000,
        debug=True,
    )
