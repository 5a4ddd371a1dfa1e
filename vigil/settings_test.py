"""Settings for the test suite: production-like (MFA enforced, no demo), fixed test keys."""

import os

os.environ.setdefault("VIGIL_DEBUG", "True")  # not production: no TLS redirect, plain-http cookies
os.environ["VIGIL_DEMO"] = "False"
os.environ.setdefault("VIGIL_SECRET_KEY", "test-secret-key-" + "x" * 50)
os.environ.setdefault("VIGIL_DATA_KEYS", "t1:" + "A" * 43)
os.environ.setdefault("VIGIL_BLIND_INDEX_KEY", "B" * 43)
os.environ.setdefault("VIGIL_RATE_LIMIT_KEY", "C" * 43)
os.environ.setdefault("VIGIL_TWILIO_AUTH_TOKEN", "test-twilio-token")
os.environ.setdefault("VIGIL_PUBLIC_URL", "http://testserver")
os.environ.setdefault("VIGIL_ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
os.environ.setdefault("VIGIL_INTAKE_POW_BITS", "8")
if os.environ.get("VIGIL_TEST_DATABASE") == "postgres":
    os.environ.setdefault(
        "DATABASE_URL", os.environ.get("VIGIL_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test")
    )

from vigil.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]

# Parallel runs (developers, CI's SQLite and PostgreSQL passes) must not share a test database.
_run = os.environ.get("VIGIL_TEST_RUN_ID", str(os.getpid()))
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    DATABASES["default"]["TEST"]["NAME"] = str(VAR_DIR / f"test-{_run}.sqlite3")  # noqa: F405
else:
    DATABASES["default"]["TEST"] = {"NAME": f"test_vigil_{_run}"}  # noqa: F405
