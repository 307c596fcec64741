"""VoIPXS settings: one file; production differs only through environment variables.

Every variable is listed in README.md ("Environment variables"). Secrets have no default, so a
missing one fails loudly at start-up instead of running with a guessable value.
"""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from voipxs.beat import SCHEDULE as BEAT_SCHEDULE
from voipxs.log_secrets import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"  # SQLite file, uploaded CDR files, export files (all git-ignored)

env = environ.Env()
# `make run` writes an ignored .env with fresh keys once (voipxs.privacy.keys); deployments use the environment.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env("SECRET_KEY")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# How many reverse proxies in front of the web workers append to X-Forwarded-For. 0 (the default, and
# docker-compose's setting): the client address is the socket's, and a forged X-Forwarded-For changes
# nothing for the login throttle (DRF) or the lockout (django-axes).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

# --- Encryption keys (voipxs/privacy/crypto.py) --------------------------------------------------------
# Never derived from SECRET_KEY. FIELD_ENCRYPTION_KEYS is a comma-separated list of urlsafe-base64
# 32-byte AES keys, newest first: new writes use the first, every listed key still decrypts.
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS")
# HMAC-SHA256 key of the blind indexes (encrypted columns' exact lookups): not rotatable, so not an encryption key.
BLIND_INDEX_KEY = env("BLIND_INDEX_KEY")

_INSECURE_MARKERS = ("insecure", "test", "change-me", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")


def _looks_fake(value: str) -> bool:
    """A placeholder, or a readable text in base64 (the suite's keys are), is no production key."""
    if len(value) < 40 or any(m in value for m in _INSECURE_MARKERS):
        return True
    if "voipxs.settings_test" in __import__("sys").modules:
        return False  # the suite's own readable keys; only importing the test settings gets here
    try:
        raw = __import__("base64").urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except ValueError:
        return False
    return any(m.encode() in raw.lower() for m in _INSECURE_MARKERS[:3]) or len(set(raw)) < 8


if not DEBUG:
    for _name, _values in (
        ("SECRET_KEY", [SECRET_KEY]),
        ("FIELD_ENCRYPTION_KEYS", FIELD_ENCRYPTION_KEYS),
        ("BLIND_INDEX_KEY", [BLIND_INDEX_KEY]),
    ):
        if not _values or any(_looks_fake(v) for v in _values):
            raise ImproperlyConfigured(
                f"{_name} is missing or not a real key; generate a set with `python -m voipxs.privacy.keys`."
            )

# --- Applications ------------------------------------------------------------------------------
INSTALLED_APPS = [
    "voipxs.admin.OTPAdminConfig",  # django.contrib.admin on django-otp's OTPAdminSite (staff pass TOTP)
    "django.contrib.auth", "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework", "knox",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    # Ours, in import order: each may import only those above it.
    "voipxs",
    "accounts",
    "traffic",
    "retention",
    "disclosures",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "voipxs.middleware.RefuseNulMiddleware",  # a NUL byte in path, query or form: 400 naming it (PG holds no NUL)
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "voipxs.privacy.audit.AuditAccessMiddleware",
    "accounts.middleware.StaffTwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "voipxs.middleware.SecurityHeadersMiddleware",  # CSP, Permissions-Policy, no-store on personal pages
    "accounts.dsr.middleware.PolicySeenMiddleware",  # opening /privacy/ marks a policy change as seen
    # Last, as django-axes requires: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "voipxs.urls"
WSGI_APPLICATION = "voipxs.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "OPTIONS": {  # the cached loader, rendering fixed tags once per language: voipxs/template_folding.py
            "loaders": [("voipxs.template_folding.Loader", ["django.template.loaders.filesystem.Loader",
                                                            "django.template.loaders.app_directories.Loader"])],
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "voipxs.context_processors.site",
                "accounts.dsr.context_processors.policy_notice",
            ],
        },
    },
]

# --- Database ----------------------------------------------------------------------------------
# Default: an SQLite file for a first look. CI and production: DATABASE_URL=postgres://...
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
DATABASES["default"].update(ATOMIC_REQUESTS=True, CONN_MAX_AGE=env.int("CONN_MAX_AGE", default=60))
DATABASE_PREPARED_STATEMENTS = env.bool("DATABASE_PREPARED_STATEMENTS", default=True)  # voipxs/statements.py
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True  # checked before reuse: after a database restart, reconnect
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {"timeout": 20}
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":  # Django's, checking without a round trip
    DATABASES["default"]["ENGINE"] = "voipxs.db.postgresql"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Authentication ----------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # django-axes first: it refuses a locked-out login before the password is even checked.
    "axes.backends.AxesStandaloneBackend",
    # ModelBackend, reading a session's user with their roles, devices and policy notice in one query.
    "accounts.backends.UserBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = LOGOUT_REDIRECT_URL = "home"

# django-axes: lock out after 5 failures for 30 minutes, per login name and address (never the password).
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.5)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_CALLABLE = "accounts.lockout.axes_username"  # cut to axes' 255 characters: a longer name was a 500
AXES_RESET_ON_SUCCESS = True
AXES_SENSITIVE_PARAMETERS = ["password", "password1", "password2", "new_password1", "new_password2", "otp_token"]
AXES_ENABLE_ACCESS_FAILURE_LOG = False
# No AccessLog (login name, IP, user agent per successful sign-in): nothing purges it and the
# data-subject export does not see it; technical identifiers may be kept 30 days at most.
AXES_DISABLE_ACCESS_LOG = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False

OTP_TOTP_ISSUER = "VoIPXS"

# --- API ---------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.api_auth.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "accounts.api_auth.StaffHasSecondFactor",
    ],
    # DRF's parsers; the JSON one refuses a lone surrogate at its field (400) before a field can echo it (500).
    "DEFAULT_PARSER_CLASSES": ["voipxs.parsers.StrictJSONParser", "rest_framework.parsers.FormParser",
                               "rest_framework.parsers.MultiPartParser"],
    "DEFAULT_SCHEMA_CLASS": "voipxs.api.AutoSchema",  # names nested serializers after their view
    "EXCEPTION_HANDLER": "voipxs.api.exception_handler",
    "DEFAULT_PAGINATION_CLASS": None,
    "DEFAULT_THROTTLE_RATES": {"login": "10/min"},
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,  # None would trust any X-Forwarded-For the client sends
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
# django-rest-knox stores only a SHA-512 digest of each token; tokens expire.
REST_KNOX = {
    "TOKEN_TTL": __import__("datetime").timedelta(hours=env.int("API_TOKEN_TTL_HOURS", default=24 * 30)),
    "AUTO_REFRESH": False,
    "TOKEN_LIMIT_PER_USER": 10,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "VoIPXS API",
    "DESCRIPTION": "Customer portal and staff API. Every read of personal data is purpose-bound and audited.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and docs are for people signed in; staff also need their second factor, as for the API.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated", "accounts.api_auth.StaffHasSecondFactor"],
    # Swagger UI assets come from drf-spectacular-sidecar (our static files), never from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Two apps name a field "categories" with different choices (retention, disclosures).
    "ENUM_NAME_OVERRIDES": {"DisclosureDataCategoryEnum": "disclosures.models.DataCategory.choices",
                            "RetentionCategoryEnum": "retention.models.Category.choices"},
    "COMPONENT_SPLIT_REQUEST": True,
}

# --- Internationalisation and time ---------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("nl", _("Dutch"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# One date/number format per language (voipxs/formats/<lang>/formats.py); templates use the named formats.
FORMAT_MODULE_PATH = ["voipxs.formats"]
USE_I18N = True
USE_TZ = True  # stored in UTC
TIME_ZONE = "Europe/Amsterdam"  # shown in Amsterdam time

# --- Static files ------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": VAR_DIR / "media"}},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# Where uploaded CDR files and encrypted export files wait for their task (never in a task argument).
PRIVATE_FILES_DIR = Path(env("PRIVATE_FILES_DIR", default=str(VAR_DIR / "private")))
# Kept outside the database, apart from its dumps and PRIVATE_FILES_DIR, writable by the worker: the month-key backup
# with the erasures (retention/backup/keyfile.py) and the audit log's head witness (voipxs/privacy/audit_head.py).
BACKUP_KEYS_FILE = Path(env("BACKUP_KEYS_FILE", default=str(VAR_DIR / "backup-keys" / "month-keys.enc")))
AUDIT_HEAD_FILE = Path(env("AUDIT_HEAD_FILE", default=str(VAR_DIR / "audit-head" / "head.json")))
# The CIOT subscriber file (Tw art. 13.4(3), Bvgt; accounts/ciot/): the adapter that delivers it (one
# interface, accounts.ciot.adapters.CiotAdapter; the official CIOT connection spec is not public) and the
# directory the default file adapter writes the current snapshot to (mode 0600; holds names and addresses).
CIOT_ADAPTER = env("CIOT_ADAPTER", default="accounts.ciot.adapters.CsvFileAdapter")
CIOT_EXPORT_DIR = Path(env("CIOT_EXPORT_DIR", default=str(VAR_DIR / "ciot")))

# --- E-mail ------------------------------------------------------------------------------------
EMAIL_CONFIG = env.email("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="VoIPXS <privacy@voipxs.invalid>")

# --- Redis, cache, Celery ------------------------------------------------------------------------
REDIS_URL = env("REDIS_URL", default="")
CACHES = {
    "default": (
        # A Redis outage reads as a cache miss, never as a 500 (voipxs/cache.py); a dead server costs
        # a request at most the connect timeout.
        {"BACKEND": "voipxs.cache.DegradingRedisCache", "LOCATION": REDIS_URL,
         "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None  # tasks report through the database, not through results
# Without REDIS_URL there is no worker: tasks run in-process, right where they are queued.
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TIMEZONE = "Europe/Amsterdam"
CELERY_TASK_SOFT_TIME_LIMIT = 60 * 30
CELERY_TASK_TIME_LIMIT = 60 * 35
CELERY_TASK_ACKS_LATE = True  # a task whose worker dies is redelivered; tasks are idempotent
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A send to a dead or hung broker fails in seconds instead of holding a web request (socket timeouts, one
# reconnection); voipxs/queue.py sends once and its reapers send again what still waits after the delay below.
CELERY_BROKER_CONNECTION_TIMEOUT = 1
# visibility_timeout > a hard limit + a retry's wait (invoice_run 35 + 40 min): tests/voipxs/test_celery_time_limits.py
CELERY_BROKER_TRANSPORT_OPTIONS = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5,
                                   "socket_connect_timeout": 1, "socket_timeout": 2, "visibility_timeout": 2 * 3600}
# Work stored as waiting (a DSR export `pending`, a disclosure `producing`) and not started this long after
# lost its task (broker down): the reapers (beat) send it again; the tasks lock their row and skip work done.
TASK_RESEND_AFTER_SECONDS = env.int("TASK_RESEND_AFTER_SECONDS", default=300)
MAIL_OWED_ALERT_MINUTES = env.int("MAIL_OWED_ALERT_MINUTES", default=30)  # undelivered: on staff home (ops_status)
# Days an invoice may be disputed, and a decided dispute still taken further; its CDRs stay through both (Tw 11.5(2))
INVOICE_DISPUTE_WINDOW_DAYS = env.int("INVOICE_DISPUTE_WINDOW_DAYS", default=183)  # from the invoice date, ~6 months
INVOICE_DISPUTE_APPEAL_DAYS = env.int("INVOICE_DISPUTE_APPEAL_DAYS", default=365)  # Geschillencommissie: 12 months
INVOICE_REISSUE_REMIND_DAYS = env.int("INVOICE_REISSUE_REMIND_DAYS", default=30)  # upheld: mail billing this early
# The supplier on every invoice (Wet OB art. 35a: name, address, VAT number; Handelsregisterbesluit art. 20:
# the KvK number), and the VAT rate new invoices charge (percent; 21 is the Dutch general rate).
INVOICE_COMPANY_NAME = env("INVOICE_COMPANY_NAME", default="VoIPXS B.V.")
INVOICE_COMPANY_ADDRESS = env("INVOICE_COMPANY_ADDRESS", default="Voorbeeldstraat 1, 1011 AA Amsterdam, Nederland")
INVOICE_COMPANY_VAT_NUMBER = env("INVOICE_COMPANY_VAT_NUMBER", default="NL000099998B57")
INVOICE_COMPANY_KVK_NUMBER = env("INVOICE_COMPANY_KVK_NUMBER", default="00000000")
INVOICE_COMPANY_IBAN = env("INVOICE_COMPANY_IBAN", default="")
INVOICE_VAT_RATE = Decimal(env("INVOICE_VAT_RATE", default="21.00"))

# Disclosures: a closed request's legal hold stays this many days (follow-up questions of the authority); delivered
# packages are deleted this many days after delivery; legal officers are e-mailed this many hours before a request's
# deadline; transparency counts below the threshold are shown as "< N"; the provider id in ETSI TS 102 657 packages.
DISCLOSURE_HOLD_RELEASE_DAYS = env.int("DISCLOSURE_HOLD_RELEASE_DAYS", default=30)
DISCLOSURE_PACKAGE_RETENTION_DAYS = env.int("DISCLOSURE_PACKAGE_RETENTION_DAYS", default=90)
DISCLOSURE_ESCALATION_HOURS = env.int("DISCLOSURE_ESCALATION_HOURS", default=24)
DISCLOSURE_REPORT_THRESHOLD = env.int("DISCLOSURE_REPORT_THRESHOLD", default=5)
DISCLOSURE_PROVIDER_ID = env("DISCLOSURE_PROVIDER_ID", default="VoIPXS-NL")
# An emergency's written order is due this many days after intake (Sv 126ni(3)); late, officers and DPO are told.
DISCLOSURE_WRITTEN_ORDER_DAYS = env.int("DISCLOSURE_WRITTEN_ORDER_DAYS", default=3)
# Legal officers are reminded this many days before a preservation order (126ni, EPOC-PR) ends; a notice withheld at
# intake is reviewed, and a draft notice still unsent is reminded, this many days after (LEGAL.md row 18).
DISCLOSURE_PRESERVATION_REMINDER_DAYS = env.int("DISCLOSURE_PRESERVATION_REMINDER_DAYS", default=7)
DISCLOSURE_NOTICE_REVIEW_DAYS = env.int("DISCLOSURE_NOTICE_REVIEW_DAYS", default=365)
DISCLOSURE_NOTICE_DRAFT_REMIND_DAYS = env.int("DISCLOSURE_NOTICE_DRAFT_REMIND_DAYS", default=3)
# e-Evidence (Reg. (EU) 2023/1543, Dir. (EU) 2023/1544): the designated establishment or legal
# representative that receives European Production and Preservation Orders for VoIPXS (name, address,
# contact). Shown to the legal officers; empty means none is designated yet, which the pages flag.
EEVIDENCE_LEGAL_REPRESENTATIVE = env("EEVIDENCE_LEGAL_REPRESENTATIVE", default="")

# Reminders to the DPO (beat, hourly; once per item and stage): open data-subject requests due within
# DSR_REMINDER_DAYS days, and open breaches whose authority notification (24 h telecom, 72 h otherwise)
# is not recorded and whose clock ends within BREACH_REMINDER_HOURS hours; again once either is overdue.
DSR_REMINDER_DAYS = env.int("DSR_REMINDER_DAYS", default=7)
BREACH_REMINDER_HOURS = env.int("BREACH_REMINDER_HOURS", default=6)

# A running CDR import, and the purge, renew a lease with every batch they commit (seconds apart); one
# silent for longer than its lease below has lost its worker and is marked failed by a reaper (beat, every
# 5 minutes), a purge with the receipts of what it removed. Until then another purge is refused (not a dry run).
CDR_IMPORT_LEASE_SECONDS = env.int("CDR_IMPORT_LEASE_SECONDS", default=600)
PURGE_LEASE_SECONDS = env.int("PURGE_LEASE_SECONDS", default=300)
# Processes that prepare a large CSV import on PostgreSQL (traffic/ingest/parallel.py): None = cores - 1, 0 = none.
CDR_IMPORT_PROCS = env.int("CDR_IMPORT_PROCS", default=None)
# Live CDR push (traffic/push): the largest body a switch may POST (one CDR is a few KB; mod_json_cdr's
# largest are ~60 KB), and the address switches reach this site at, for the URL `cdr_source add --push` prints.
CDR_PUSH_MAX_BYTES = env.int("CDR_PUSH_MAX_BYTES", default=1_048_576)
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000")

# Every periodic task of the project, each with its crontab.guru reading: voipxs/beat.py.
CELERY_BEAT_SCHEDULE = BEAT_SCHEDULE

# --- Security ----------------------------------------------------------------------------------
SESSION_ENGINE = "accounts.sessions"  # database sessions with their user id: session and user in one read
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 60 * 60 * 8
CSRF_COOKIE_HTTPONLY = True
CSRF_FAILURE_VIEW = "voipxs.csrf_failure.csrf_failure"  # the site's 403 page, in the person's language
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Sent on every response by voipxs.middleware.SecurityHeadersMiddleware: scripts and styles only from
# our own static files (no inline script anywhere; the API docs load their set-up script as a file),
# nothing framed, forms posted only to us.
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                           "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
                           "frame-ancestors 'none'; form-action 'self'")
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()"
if TRUSTED_PROXY_COUNT:
    AXES_IPWARE_PROXY_COUNT = TRUSTED_PROXY_COUNT
    AXES_IPWARE_META_PRECEDENCE_ORDER = ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR")
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# --- Click-to-call (issue 12): the switch that sets up calls, and how often a user may ask -------------
# "asterisk" (AMI Originate) or "freeswitch" (event socket bgapi originate); empty: set-up answers 503.
CALL_SETUP_BACKEND = env("CALL_SETUP_BACKEND", default="")
# ami://user:secret@host:5038 or esl://:password@host:8021 (a secret: set it in the environment).
CALL_SETUP_URL = env("CALL_SETUP_URL", default="")
CALL_SETUP_CHANNEL = env("CALL_SETUP_CHANNEL", default="PJSIP/{own}")  # {own}: the user's number, rings first
CALL_SETUP_CONTEXT = env("CALL_SETUP_CONTEXT", default="click-to-call")  # dialplan context of the chosen number
CALL_SETUP_TIMEOUT_SECONDS = env.float("CALL_SETUP_TIMEOUT_SECONDS", default=5.0)
CALL_SETUP_RING_SECONDS = env.int("CALL_SETUP_RING_SECONDS", default=30)
CALL_SETUP_RATE_LIMIT = env.int("CALL_SETUP_RATE_LIMIT", default=10)  # set-ups per user per window
CALL_SETUP_RATE_WINDOW_SECONDS = env.int("CALL_SETUP_RATE_WINDOW_SECONDS", default=600)

# --- Logging: counts and ids only; personal data never reaches a log line ------------------------
# Console lines of counts and ids; a password-reset link's token in a logged path is written "[token]".
LOGGING = logging_config(env("LOG_LEVEL", default="INFO"))
