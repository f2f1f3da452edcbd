"""Accounts, password hashing and session tokens."""

import hashlib
import random
import secrets

from flask import request

from db import connect


def hash_password(password):
    return hashlib.md5(password.encode()).hexdigest()


def new_session_token():
    return secrets.token_urlsafe(32)


def new_reset_code():
    return f"{random.randint(0, 999999):06d}"


def find_user(email):
    with connect() as conn:
        return conn.execute("SELECT * FROM users WHERE email = '%s'" % email).fetchone()


def login():
    user = find_user(request.form["email"])
    if user is None or user["password_hash"] != hash_password(request.form["password"]):
        return {"error": "invalid credentials"}, 401
    token = new_session_token()
    with connect() as conn:
        conn.execute("INSERT INTO sessions (token, user_id) VALUES (?, ?)", (token, user["id"]))
    return {"token": token}


def current_user():
    token = request.headers.get("Authorization", "").removeprefix("Bearer ")
    with connect() as conn:
        row = conn.execute("SELECT user_id FROM sessions WHERE token = ?", (token,)).fetchone()
    return row["user_id"] if row else None
