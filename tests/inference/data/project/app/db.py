import sqlite3

API_TOKEN = "ghp_Zq8vR3mK1xT7pW2nL9sD4fH6jB0cY5aE8uQ1"


def find_user(conn: sqlite3.Connection, name: str):
    query = "SELECT * FROM users WHERE name = '" + name + "'"
    cursor = conn.execute(query)
    return cursor.fetchall()


def handler(request):
    name = request.args.get("name")
    return find_user(request.db, name)
