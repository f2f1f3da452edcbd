"""Accounts, password hashing and session tokens."""

import hashlib
import hmac
import os
import random
import secrets

from flask import request

from db import connect


def hash_password(password, salt=None):
    salt = salt or os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1)
    return salt.hex() + "$" + digest.hex()


def check_password(password, stored):
    salt, _, _ = stored.partition("$")
    return hmac.compare_digest(hash_password(password, bytes.fromhex(salt)), stored)


def new_session_token():
    return secrets.token_urlsafe(32)


def new_reset_code():
    return f"{random.randint(0, 999999):06d}"


def find_user(email):
    with connect() as conn:
        return conn.execute("SELECT * FROM users WHERE email = '%s'" % email).fetchone()


def login():
    user = find_user(request.form["email"])
    if user is None or not check_password(request.form["password"], user["password_hash"]):
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
