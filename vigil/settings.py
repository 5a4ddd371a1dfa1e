"""Vigil settings: every value comes from the environment through strict parsers.

The whole list is documented in docs/configuration.md; a test keeps the two in step.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import dj_database_url

from vigil.env import ConfigError, env_bool, env_choice, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VIGIL_VAR_DIR", str(BASE_DIR / "var")))
# Holds the SQLite database, encrypted uploads and (demo only) keys: private to the service.
VAR_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)

# Demo mode: the fictional network of `make run`. Generates its own keys, allows MFA to be
# skipped on loopback (with a banner), uses the sandbox channel. Never for real data.
DEMO_MODE = env_bool("VIGIL_DEMO", False)
DEBUG = env_bool("VIGIL_DEBUG", False)

_DEFAULT_SECRET = "insecure-development-secret-do-not-use-in-production-0000000000"  # noqa: S105 - refused in production
SECRET_KEY = env_str("VIGIL_SECRET_KEY", _DEFAULT_SECRET)
ALLOWED_HOSTS = env_list("VIGIL_ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
PUBLIC_URL = env_str("VIGIL_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")
PROXY_COUNT = env_int("VIGIL_PROXY_COUNT", 0, minimum=0, maximum=5)

PRODUCTION = not (DEMO_MODE or DEBUG)

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "django_tasks",
    "django_tasks_db",
    "vigil.core",
    "vigil.accounts",
    "vigil.intake",
    "vigil.incidents",
    "vigil.channels",
    "vigil.alerts",
    "vigil.responders",
    "vigil.organizing",
    "vigil.cases",
    "vigil.families",
]

MIDDLEWARE = [
    "vigil.core.middleware.SecurityHeadersMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "vigil.accounts.middleware.SessionLimitsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "vigil.accounts.middleware.RequireMFAMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "vigil.urls"
ASGI_APPLICATION = "vigil.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "vigil" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "vigil.core.context.vigil",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL", "")
if DATABASE_URL:
    if not DATABASE_URL.startswith(("postgres://", "postgresql://", "sqlite:///")):
        raise ConfigError("DATABASE_URL must be a postgres:// or sqlite:/// URL")
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(VAR_DIR / "vigil.sqlite3"),
        }
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE transactions take the write lock at BEGIN, so two writers never both
    # read-then-upgrade and deadlock into "database is locked"; pragmas are set (and
    # asserted) for every new connection in vigil.core.db.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": env_int("VIGIL_SQLITE_BUSY_TIMEOUT", 20, minimum=1),
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA secure_delete=ON;"
        ),
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("TEST", {})["NAME"] = str(VAR_DIR / "test.sqlite3")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "vigil_cache",
    }
}

TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
    }
}

# --- Auth -----------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["allauth.account.auth_backends.AuthenticationBackend"]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "board"
LOGOUT_REDIRECT_URL = "account_login"

ACCOUNT_ADAPTER = "vigil.accounts.adapter.StaffAccountAdapter"
ACCOUNT_LOGIN_METHODS = {"username"}
ACCOUNT_SIGNUP_FIELDS = ["username*", "password1*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = True
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_REAUTHENTICATION_TIMEOUT = 300
# allauth refuses the 6th failed login for a username inside the window before it calls
# the authentication backend, so the Argon2 hasher does not run for refused attempts (C1).
ACCOUNT_RATE_LIMITS = {
    "login_failed": "20/m/ip,5/m/key",
    "login": "30/m/ip",
}
MFA_SUPPORTED_TYPES = ["totp", "webauthn", "recovery_codes"]
MFA_PASSKEY_LOGIN_ENABLED = False
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = DEMO_MODE or DEBUG
MFA_TOTP_ISSUER = env_str("VIGIL_NETWORK_NAME", "Vigil")

SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_AGE = env_int("VIGIL_SESSION_IDLE_MINUTES", 30, minimum=5) * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_ABSOLUTE_SECONDS = env_int("VIGIL_SESSION_ABSOLUTE_HOURS", 12, minimum=1) * 3600
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_HTTPONLY = True
CSRF_TRUSTED_ORIGINS = [PUBLIC_URL]
SECURE_SSL_REDIRECT = PRODUCTION and env_bool("VIGIL_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = 31536000 if PRODUCTION else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = PRODUCTION
SECURE_HSTS_PRELOAD = PRODUCTION
SECURE_CONTENT_TYPE_NOSNIFF = True
# same-origin, not no-referrer: Chromium sends "Origin: null" on same-origin form posts under
# no-referrer, and Django's CSRF origin check then refuses every POST. Nothing goes to other sites.
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if PROXY_COUNT else None
X_FRAME_OPTIONS = "DENY"
DATA_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 200
FILE_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024

# Staff with these roles see sensitive data and must use MFA (outside demo mode on loopback).
MFA_REQUIRED_ROLES = env_list(
    "VIGIL_MFA_REQUIRED_ROLES", ["admin", "organizer", "dispatcher", "verifier", "legal", "volunteer"]
)
MFA_DEMO_BYPASS = DEMO_MODE and env_bool("VIGIL_DEMO_SKIP_MFA", True)

# --- Internationalisation --------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = env_str("VIGIL_TIME_ZONE", "America/Chicago")

# --- Static and media ------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "vigil" / "static"]
MEDIA_ROOT = VAR_DIR / "media"
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
WHITENOISE_ALLOW_ALL_ORIGINS = False

# --- Vigil ------------------------------------------------------------------------------
NETWORK_NAME = env_str("VIGIL_NETWORK_NAME", "Vigil")
# Data keys: "kid:base64key,kid:base64key" (first one encrypts), blind index key separate.
DATA_KEYS = env_str("VIGIL_DATA_KEYS", "")
BLIND_INDEX_KEY = env_str("VIGIL_BLIND_INDEX_KEY", "")
RATE_LIMIT_KEY = env_str("VIGIL_RATE_LIMIT_KEY", "")
DEMO_KEY_FILE = VAR_DIR / "demo-keys.env"

DEFAULT_PHONE_REGION = env_str("VIGIL_DEFAULT_PHONE_REGION", "US")
CLUSTER_H3_RESOLUTION = env_int("VIGIL_CLUSTER_H3_RES", 8, minimum=5, maximum=10)
CLUSTER_RING = env_int("VIGIL_CLUSTER_RING", 1, minimum=0, maximum=3)
CLUSTER_WINDOW = timedelta(minutes=env_int("VIGIL_CLUSTER_WINDOW_MINUTES", 90, minimum=5))
BOARD_STALE_MINUTES = env_int("VIGIL_BOARD_STALE_MINUTES", 10, minimum=1)

RETAIN_REPORT_DAYS = env_int("VIGIL_RETAIN_REPORT_DAYS", 30, minimum=1)
RETAIN_CONTACT_DAYS = env_int("VIGIL_RETAIN_CONTACT_DAYS", 7, minimum=1)
RETAIN_UPLOAD_DAYS = env_int("VIGIL_RETAIN_UPLOAD_DAYS", 14, minimum=1)
RETAIN_AUDIT_DAYS = env_int("VIGIL_RETAIN_AUDIT_DAYS", 365, minimum=30)
RETAIN_DELIVERY_DAYS = env_int("VIGIL_RETAIN_DELIVERY_DAYS", 30, minimum=1)

INTAKE_POW_BITS = env_int("VIGIL_INTAKE_POW_BITS", 16, minimum=0, maximum=28)
INTAKE_NOJS_MIN_SECONDS = env_int("VIGIL_INTAKE_NOJS_MIN_SECONDS", 15, minimum=0)
INTAKE_RATE_PER_HOUR = env_int("VIGIL_INTAKE_RATE_PER_HOUR", 10, minimum=1)
SMS_RATE_PER_MINUTE = env_int("VIGIL_SMS_RATE_PER_MINUTE", 6, minimum=1)
# A guided family plan by SMS takes about 18 replies; 40 leaves room for a few mistakes.
SMS_REPLIES_PER_HOUR = env_int("VIGIL_SMS_REPLIES_PER_HOUR", 40, minimum=0)

TWILIO_AUTH_TOKEN = env_str("VIGIL_TWILIO_AUTH_TOKEN", "")

# --- Outbound channels (docs/channels.md). A channel is live when its settings exist. -------
# Sandbox: every outbound message lands in the in-app phone inbox instead of a provider.
SANDBOX = env_bool("VIGIL_SANDBOX", DEMO_MODE)
TWILIO_ACCOUNT_SID = env_str("VIGIL_TWILIO_ACCOUNT_SID", "")
TWILIO_API_URL = env_str("VIGIL_TWILIO_API_URL", "https://api.twilio.com").rstrip("/")
TWILIO_FROM_NUMBER = env_str("VIGIL_TWILIO_FROM_NUMBER", "")
TWILIO_MESSAGING_SERVICE_SID = env_str("VIGIL_TWILIO_MESSAGING_SERVICE_SID", "")
# Messages per second per sender: 1 for a US long code; more for short codes and services.
SMS_PER_SECOND = env_int("VIGIL_SMS_PER_SECOND", 1, minimum=1)
SIGNAL_CLI_URL = env_str("VIGIL_SIGNAL_CLI_URL", "").rstrip("/")
SIGNAL_NUMBER = env_str("VIGIL_SIGNAL_NUMBER", "")
SIGNAL_PER_SECOND = env_int("VIGIL_SIGNAL_PER_SECOND", 1, minimum=1)
EMAIL_HOST = env_str("VIGIL_EMAIL_HOST", "")
EMAIL_PORT = env_int("VIGIL_EMAIL_PORT", 587, minimum=1, maximum=65535)
EMAIL_HOST_USER = env_str("VIGIL_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = env_str("VIGIL_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = env_bool("VIGIL_EMAIL_USE_TLS", True)
EMAIL_TIMEOUT = 20
DEFAULT_FROM_EMAIL = env_str("VIGIL_EMAIL_FROM", "")
EMAIL_PER_SECOND = env_int("VIGIL_EMAIL_PER_SECOND", 5, minimum=1)
VAPID_PUBLIC_KEY = env_str("VIGIL_VAPID_PUBLIC_KEY", "")
VAPID_PRIVATE_KEY = env_str("VIGIL_VAPID_PRIVATE_KEY", "")
VAPID_SUBJECT = env_str("VIGIL_VAPID_SUBJECT", "")
WEBPUSH_PER_SECOND = env_int("VIGIL_WEBPUSH_PER_SECOND", 50, minimum=1)
# How long a send waits for the provider before it counts as a temporary failure.
PROVIDER_TIMEOUT_SECONDS: float = env_int("VIGIL_PROVIDER_TIMEOUT_SECONDS", 10, minimum=1, maximum=120)

# --- Alerts and the delivery ledger ---------------------------------------------------------
ALERT_VALID_MINUTES = env_int("VIGIL_ALERT_VALID_MINUTES", 30, minimum=1, maximum=24 * 60)
# Two-person rule: a second staff member approves each alert before anything is sent.
ALERT_TWO_PERSON = env_bool("VIGIL_ALERT_TWO_PERSON", False)
DELIVERY_LEASE_SECONDS = env_int("VIGIL_DELIVERY_LEASE_SECONDS", 60, minimum=5)
DELIVERY_CONCURRENCY = env_int("VIGIL_DELIVERY_CONCURRENCY", 50, minimum=1, maximum=1000)
DELIVERY_BACKOFF_MAX_SECONDS = env_int("VIGIL_DELIVERY_BACKOFF_MAX_SECONDS", 60, minimum=1)
# Transient failures on a subscriber's first channel before the fallback channel is tried.
DELIVERY_FALLBACK_AFTER = env_int("VIGIL_DELIVERY_FALLBACK_AFTER", 3, minimum=1)

# --- Responders: paging, escalation, on-call guardrails, evidence ------------------------
# Seconds a page waits for an accept before it escalates (zone, next ring, backup list, dispatcher).
PAGE_ESCALATE_SECONDS = env_int("VIGIL_PAGE_ESCALATE_SECONDS", 300, minimum=10, maximum=3600)
# h3 rings around the incident's zone that the second paging stage reaches.
PAGE_RING = env_int("VIGIL_PAGE_RING", 1, minimum=1, maximum=5)
# Nothing of a page is delivered after this many minutes.
PAGE_VALID_MINUTES = env_int("VIGIL_PAGE_VALID_MINUTES", 30, minimum=1, maximum=24 * 60)
# Burnout guardrails: on-call hours in any 7 days, and the rest after a long deployment.
MAX_SHIFT_HOURS_PER_WEEK = env_int("VIGIL_MAX_SHIFT_HOURS_PER_WEEK", 40, minimum=1, maximum=168)
LONG_DEPLOYMENT_HOURS = env_int("VIGIL_LONG_DEPLOYMENT_HOURS", 4, minimum=1, maximum=48)
REST_HOURS = env_int("VIGIL_REST_HOURS", 10, minimum=0, maximum=72)
# How long "AVAILABLE" by text keeps a volunteer on call when they give no number of hours.
AVAILABLE_HOURS = env_int("VIGIL_AVAILABLE_HOURS", 4, minimum=1, maximum=24)
# Evidence: keep the untouched original (encrypted) for legal defense, or only the cleaned copy.
EVIDENCE_KEEP_ORIGINALS = env_bool("VIGIL_EVIDENCE_KEEP_ORIGINALS", True)
MAX_EVIDENCE_MB = env_int("VIGIL_MAX_EVIDENCE_MB", 100, minimum=1, maximum=2048)
RETAIN_EVIDENCE_DAYS = env_int("VIGIL_RETAIN_EVIDENCE_DAYS", 365, minimum=1)

# --- Cases, family plans, panic -----------------------------------------------------------
# Days a closed case keeps its personal data (for appeals and the attorney's file) before the
# case's data key is destroyed (crypto-shredding).
CASE_RETENTION_DAYS = env_int("VIGIL_CASE_RETENTION_DAYS", 90, minimum=0, maximum=3650)
# Days before a hearing or deadline that reminders go out, largest first.
CASE_REMINDER_DAYS = sorted(
    {int(d) for d in env_list("VIGIL_CASE_REMINDER_DAYS", ["7", "1"]) if d.strip().isdecimal()}, reverse=True
)
# A second admin must approve each case export before it can be downloaded.
CASE_EXPORT_APPROVAL = env_bool("VIGIL_CASE_EXPORT_APPROVAL", False)
# Hours an approved export stays downloadable (once).
CASE_EXPORT_HOURS = env_int("VIGIL_CASE_EXPORT_HOURS", 24, minimum=1, maximum=24 * 14)
# Distinct cases one person may open within an hour before it is logged as bulk reading (D5).
CASE_READ_ALERT = env_int("VIGIL_CASE_READ_ALERT", 30, minimum=2)
CASE_BOARD_PAGE_ALERT = env_int("VIGIL_CASE_BOARD_PAGE_ALERT", 10, minimum=2)
# Wrong plan codes (panic) or PINs one phone or address may try per hour.
PLAN_ATTEMPTS_PER_HOUR = env_int("VIGIL_PLAN_ATTEMPTS_PER_HOUR", 5, minimum=1, maximum=100)
PLAN_GUESS_ALERT = env_int("VIGIL_PLAN_GUESS_ALERT", 50, minimum=1)

WORKER_HEARTBEAT_SECONDS = env_int("VIGIL_WORKER_HEARTBEAT_SECONDS", 10, minimum=1)

LOG_LEVEL = env_choice("VIGIL_LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR"))
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"scrub": {"()": "vigil.core.logs.ScrubFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["scrub"], "formatter": "plain"},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Host-header and CSRF failures log request details; the scrub filter still applies.
        "django.security": {"handlers": ["console"], "level": "WARNING", "propagate": False},
        "uvicorn.access": {"handlers": [], "level": "CRITICAL", "propagate": False},
        # fontTools lists at INFO the glyphs a case PDF uses: the letters of the names in it.
        "fontTools": {"level": "WARNING"},
    },
}

if PRODUCTION:
    _problems = []
    if SECRET_KEY == _DEFAULT_SECRET or len(SECRET_KEY) < 50:
        _problems.append("VIGIL_SECRET_KEY must be set to a random value of 50+ characters")
    if not DATA_KEYS or not BLIND_INDEX_KEY or not RATE_LIMIT_KEY:
        _problems.append("VIGIL_DATA_KEYS, VIGIL_BLIND_INDEX_KEY and VIGIL_RATE_LIMIT_KEY must be set")
    if "*" in ALLOWED_HOSTS or any(h.startswith(".") for h in ALLOWED_HOSTS):
        _problems.append("VIGIL_ALLOWED_HOSTS must list host names, not wildcards")
    if not PUBLIC_URL.startswith("https://"):
        _problems.append("VIGIL_PUBLIC_URL must be an https:// URL")
    if _problems:
        raise ConfigError("Refusing to start in production mode: " + "; ".join(_problems))
