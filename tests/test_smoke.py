from django.test import Client


def test_healthz_answers_json_without_login(db):
    response = Client().get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["database"] == "ok"
    assert body["data_keys_loaded"] is True


def test_sqlite_connections_have_durability_pragmas(db):
    from django.db import connection

    if connection.vendor != "sqlite":
        return
    from vigil.core.db import sqlite_pragmas

    found = sqlite_pragmas(connection)
    assert found["journal_mode"] == "wal"
    assert found["synchronous"] == 2
    assert found["foreign_keys"] == 1
    assert found["secure_delete"] == 1
    assert found["busy_timeout"] >= 1000
