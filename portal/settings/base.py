"""Every setting of the portal, read from the environment in this one place.

With no environment at all the portal runs embedded: SQLite, a file-system Celery broker that a
real worker process reads, console e-mail. With DATABASE_URL / CELERY_BROKER_URL / CACHE_URL set it
runs on PostgreSQL and Redis, which is how it is deployed.
"""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(environ.Env().str("SUANLI_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()

# --- core ---
DEBUG = env.bool("DJANGO_DEBUG", default=False)
# The embedded default key is only for a laptop; production.py refuses to start with it.
INSECURE_DEFAULT_SECRET_KEY = "django-insecure-embedded-only-never-deploy-this-key"  # noqa: S105
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default=INSECURE_DEFAULT_SECRET_KEY)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
# Absolute base used in e-mails, PDFs and QR codes (no request at hand in a worker).
SITE_URL = env.str("SUANLI_SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
PROGRAM_NAME_ZH = env.str("SUANLI_PROGRAM_NAME_ZH", default="算力普惠计划")
PROGRAM_NAME_EN = env.str("SUANLI_PROGRAM_NAME_EN", default="Suanli Compute Access Program")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "simple_history",
    "core",
    "centers",
    "applications",
    "lottery",
    "grants",
    "milestones",
    "letters",
    "notifications",
    "transparency",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "core.middleware.RejectUndecodableFormMiddleware",
    "core.middleware.DatabaseUnavailableMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "core.context_processors.portal",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'suanli.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share one SQLite file in embedded mode: wait for locks, don't fail.
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].update({"timeout": 20, "transaction_mode": "IMMEDIATE"})
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # Django's cursors bind parameters in the client, so PostgreSQL plans each of their
    # queries again. The few hot queries that run on a cursor bound by the server
    # (core.db.server_bound_cursor) are prepared the fifth time a connection runs them and
    # planned once per connection. (Server binding for every query made the submission's
    # transaction several times slower under load, so it stays with those few.)
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"]["prepare_threshold"] = 5
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Shared by web and worker processes, so cache invalidation made by a worker reaches the web.
CACHES = {
    "default": env.cache("CACHE_URL", default=f"filecache://{VAR_DIR / 'cache'}"),
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = env.str("SUANLI_TIME_ZONE", default="Asia/Shanghai")
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env.str("DJANGO_STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env.str("DJANGO_MEDIA_ROOT", default=str(VAR_DIR / "media")))
STORAGES = {
    "default": {
        "BACKEND": env.str(
            "SUANLI_FILE_STORAGE", default="django.core.files.storage.FileSystemStorage"
        )
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

EMAIL_BACKEND = env.str(
    "DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend"
)
if env.str("EMAIL_URL", default=""):
    vars().update(env.email_url("EMAIL_URL"))
DEFAULT_FROM_EMAIL = env.str(
    "DJANGO_DEFAULT_FROM_EMAIL", default="Suanli <noreply@suanli.localhost>"
)
# The reference center receiver that `manage.py runportal` starts for the demo centers' billing
# webhooks. A fixed demo secret: the demo is local, and the endpoint rows the demo creates use it.
DEMO_RECEIVER_URL = env.str("SUANLI_DEMO_RECEIVER_URL", default="http://127.0.0.1:8765/")
DEMO_RECEIVER_SECRET = env.str(
    "SUANLI_DEMO_RECEIVER_SECRET", default="whsec_c3VhbmxpLWRlbW8tcmVjZWl2ZXItc2VjcmV0LTMyYnk="
)
# Who is told when something needs a human: failed webhooks, bad beacons, fairness alarms.
STAFF_ALERT_EMAILS = env.list("SUANLI_STAFF_ALERT_EMAILS", default=["ops@suanli.localhost"])

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_THROTTLE_RATES": {"anon": "120/minute", "application_submit": "10/hour"},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Suanli API",
    "DESCRIPTION": "Open rounds, applications, draws, grants and transparency figures.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}

# --- celery ---
# Embedded default: a file-system broker. A real worker process consumes it, no service needed.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL == "filesystem://":
    _broker_dir = VAR_DIR / "celery-broker"
    _broker_dir.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir),
        "data_folder_out": str(_broker_dir),
        "processed_folder": str(VAR_DIR / "celery-processed"),
        "control_folder": str(VAR_DIR / "celery-control"),
        "store_processed": False,
        # The default 1 s poll lets a worker take about one message a second per process: a
        # backlog of nudges (e.g. after a center outage) would take minutes to drain.
        "polling_interval": 0.1,
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_ACKS_LATE = True  # a worker killed mid-task leaves the task for another worker
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE: dict = {}

# --- applications ---
# Signed status links stay valid this long; "resend my link" issues a fresh one.
STATUS_LINK_MAX_AGE_DAYS = env.int("SUANLI_STATUS_LINK_MAX_AGE_DAYS", default=90)
APPLICATION_RATE_LIMIT_PER_HOUR = env.int("SUANLI_APPLICATION_RATE_LIMIT_PER_HOUR", default=10)
# How many reverse proxies stand in front of the web processes and append to X-Forwarded-For
# (portal/wsgi.py): their entries give the client's address for the per-client limits. 0 when
# clients connect directly (the embedded default); production assumes the documented TLS proxy.
PROXY_COUNT = env.int("SUANLI_PROXY_COUNT", default=0)

# --- centers ---

# --- lottery ---
# drand HTTP API (quicknet); tests point it at a local server serving recorded rounds.
LOTTERY_DRAND_BASE_URL = env.str("SUANLI_LOTTERY_DRAND_BASE_URL", default="https://api.drand.sh")
LOTTERY_DRAND_CHAIN_HASH = env.str(
    "SUANLI_LOTTERY_DRAND_CHAIN_HASH",
    default="52db9ba70e0cc0f6eaf7803dd07447a1f5477735fd3f661792ba94600c84e971",
)
# The default beacon is the first drand round at least this long after entries close.
LOTTERY_BEACON_DELAY_MINUTES = env.int("SUANLI_LOTTERY_BEACON_DELAY_MINUTES", default=10)
LOTTERY_BEACON_TIMEOUT_SECONDS = env.float("SUANLI_LOTTERY_BEACON_TIMEOUT_SECONDS", default=10.0)
LOTTERY_BEACON_ATTEMPTS = env.int("SUANLI_LOTTERY_BEACON_ATTEMPTS", default=3)
LOTTERY_BEACON_RETRY_SECONDS = env.float("SUANLI_LOTTERY_BEACON_RETRY_SECONDS", default=2.0)
# E-mails to entrants (digest at close, result after the draw) go out in batches of this size.
LOTTERY_NOTIFY_BATCH = env.int("SUANLI_LOTTERY_NOTIFY_BATCH", default=500)
LOTTERY_RESULTS_PAGE_SIZE = env.int("SUANLI_LOTTERY_RESULTS_PAGE_SIZE", default=100)
CELERY_BEAT_SCHEDULE["lottery-draws-advance"] = {
    "task": "lottery.tasks.draws_advance_task",
    "schedule": env.float("SUANLI_LOTTERY_ADVANCE_SECONDS", default=60.0),
}

# --- grants ---
# Where the demo's centers send their webhooks: the reference receiver runportal starts
# (the lead's DEMO_RECEIVER_URL / DEMO_RECEIVER_SECRET above; one name kept for the grants code).
RECEIVER_URL = DEMO_RECEIVER_URL
WEBHOOK_TIMEOUT_SECONDS = env.int("SUANLI_WEBHOOK_TIMEOUT_SECONDS", default=15)
# Fault drills only (drills/receiver_outage.py): multiplies the contract's retry schedule
# (0.01 turns 5 min into 3 s) so an outage spans several retries in seconds. Keep 1 in production.
WEBHOOK_RETRY_SCALE = env.float("SUANLI_WEBHOOK_RETRY_SCALE", default=1.0)
WEBHOOK_CLAIM_BATCH = env.int("SUANLI_WEBHOOK_CLAIM_BATCH", default=50)
WEBHOOK_SWEEP_SECONDS = env.int("SUANLI_WEBHOOK_SWEEP_SECONDS", default=10)
# Sweeps queued when an endpoint is enabled again, so all worker processes drain its backlog.
WEBHOOK_SWEEP_FANOUT = env.int("SUANLI_WEBHOOK_SWEEP_FANOUT", default=4)
# After sending its own event, a nudge keeps sending other due deliveries this long (backlogs).
WEBHOOK_NUDGE_HELP_SECONDS = env.float("SUANLI_WEBHOOK_NUDGE_HELP_SECONDS", default=2.0)
GRANTS_VALIDITY_DAYS = env.int("SUANLI_GRANTS_VALIDITY_DAYS", default=365)
# A running grant with no usage reported for this many days is flagged for staff.
GRANTS_IDLE_DAYS = env.int("SUANLI_GRANTS_IDLE_DAYS", default=30)
CELERY_BEAT_SCHEDULE["grants-webhooks-sweep"] = {
    "task": "grants.tasks.webhooks_sweep_task",
    "schedule": float(WEBHOOK_SWEEP_SECONDS),
}
CELERY_BEAT_SCHEDULE["grants-lifecycle"] = {
    "task": "grants.tasks.grants_lifecycle_task",
    "schedule": 900.0,
}

# --- milestones ---

# --- letters ---
# Issued letters are saved through this STORAGES alias ("default": files under MEDIA_ROOT). Point
# it at another alias (e.g. an S3 backend added to STORAGES) to keep letters elsewhere.
LETTERS_STORAGE = env.str("SUANLI_LETTERS_STORAGE", default="default")
# Largest PDF the public verification page will hash (the upload is never stored).
LETTERS_VERIFY_UPLOAD_MAX_BYTES = env.int(
    "SUANLI_LETTERS_VERIFY_UPLOAD_MAX_BYTES", default=10_000_000
)
# WeasyPrint logs every parsing step at INFO and fontTools every subset; keep warnings only.
LOGGING["loggers"].update(
    {"weasyprint.progress": {"level": "WARNING"}, "fontTools": {"level": "WARNING"}}
)

# --- notifications ---
# Messages still pending this long after they were written lost their first enqueue (a broker
# outage at commit time); the sweep below queues them again this often.
NOTIFICATIONS_STALE_SECONDS = env.int("SUANLI_NOTIFICATIONS_STALE_SECONDS", default=600)
CELERY_BEAT_SCHEDULE["notifications-requeue-stale"] = {
    "task": "notifications.tasks.notifications_requeue_stale_task",
    "schedule": env.float("SUANLI_NOTIFICATIONS_REQUEUE_SECONDS", default=300.0),
}

# --- transparency ---
# The public figures are recomputed at most this often (and at once when a grant, draw or
# milestone changes), so the open rounds' daily counts stay current without a query per view.
TRANSPARENCY_CACHE_SECONDS = env.int("SUANLI_TRANSPARENCY_CACHE_SECONDS", default=300)
TRANSPARENCY_REGISTER_PAGE_SIZE = env.int("SUANLI_TRANSPARENCY_REGISTER_PAGE_SIZE", default=50)
# Recompute the figures ahead of readers this often (0 turns the periodic refresh off).
TRANSPARENCY_REFRESH_SECONDS = env.int("SUANLI_TRANSPARENCY_REFRESH_SECONDS", default=240)
if TRANSPARENCY_REFRESH_SECONDS:
    CELERY_BEAT_SCHEDULE["transparency-figures-refresh"] = {
        "task": "transparency.tasks.figures_refresh_task",
        "schedule": float(TRANSPARENCY_REFRESH_SECONDS),
    }

# Base URLs of the outside APIs the evidence checkers read (tests point them at a local server).
MILESTONES_GITHUB_API = env.str("SUANLI_MILESTONES_GITHUB_API", default="https://api.github.com")
MILESTONES_HUGGINGFACE_API = env.str(
    "SUANLI_MILESTONES_HUGGINGFACE_API", default="https://huggingface.co"
)
MILESTONES_ARXIV_API = env.str("SUANLI_MILESTONES_ARXIV_API", default="https://export.arxiv.org")
# Optional tokens: raise the APIs' rate limits; never required.
MILESTONES_GITHUB_TOKEN = env.str("SUANLI_MILESTONES_GITHUB_TOKEN", default="")
MILESTONES_HUGGINGFACE_TOKEN = env.str("SUANLI_MILESTONES_HUGGINGFACE_TOKEN", default="")
# Evidence URLs are untrusted: private/loopback/link-local targets stay refused unless a test
# (local server) turns this on; evidence pages must be https.
MILESTONES_FETCH_ALLOW_PRIVATE = env.bool("SUANLI_MILESTONES_FETCH_ALLOW_PRIVATE", default=False)
MILESTONES_REQUIRE_HTTPS = env.bool("SUANLI_MILESTONES_REQUIRE_HTTPS", default=True)
MILESTONES_FETCH_TIMEOUT_SECONDS = env.float("SUANLI_MILESTONES_FETCH_TIMEOUT", default=15.0)
MILESTONES_FETCH_MAX_BYTES = env.int("SUANLI_MILESTONES_FETCH_MAX_BYTES", default=5_000_000)
# Automatic checks that cannot decide for a passing reason (rate limit, timeout) are retried
# with doubling delays from this base, this many times, before staff review.
MILESTONES_CHECK_MAX_ATTEMPTS = env.int("SUANLI_MILESTONES_CHECK_MAX_ATTEMPTS", default=6)
MILESTONES_CHECK_BACKOFF_SECONDS = env.int("SUANLI_MILESTONES_CHECK_BACKOFF_SECONDS", default=300)
# Reminders this many days before a target date; overdue after the date plus the grace days.
MILESTONES_REMINDER_DAYS = env.list("SUANLI_MILESTONES_REMINDER_DAYS", cast=int, default=[30, 7, 1])
MILESTONES_GRACE_DAYS = env.int("SUANLI_MILESTONES_GRACE_DAYS", default=14)
# A usage report (no tranche) due when the grant's compute expires.
MILESTONES_USAGE_REPORT = env.bool("SUANLI_MILESTONES_USAGE_REPORT", default=True)
# Each submission makes a worker fetch a URL: at most this many per milestone and hour.
MILESTONES_SUBMISSIONS_PER_HOUR = env.int("SUANLI_MILESTONES_SUBMISSIONS_PER_HOUR", default=10)
CELERY_BEAT_SCHEDULE.update(
    {
        "milestones-check-due": {"task": "milestones.tasks.milestones_check_due", "schedule": 300},
        "milestones-remind": {"task": "milestones.tasks.milestones_remind", "schedule": 3600},
        "milestones-mark-overdue": {
            "task": "milestones.tasks.milestones_mark_overdue",
            "schedule": 3600,
        },
    }
)
