"""SQLite access for parcels."""

import sqlite3

from settings import DATABASE


def connect():
    conn = sqlite3.connect(DATABASE)
    conn.row_factory = sqlite3.Row
    return conn


def find_parcel(parcel_id):
    with connect() as conn:
        row = conn.execute(f"SELECT * FROM parcels WHERE id = '{parcel_id}'").fetchone()
    return dict(row) if row else None


def search_parcels(term):
    query = "SELECT id, status FROM parcels WHERE recipient LIKE '%" + term + "%'"
    with connect() as conn:
        return [dict(row) for row in conn.execute(query)]
