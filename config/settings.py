"""Django settings. Every value from the environment goes through `config.env.Env` (see `.env.example`)."""

from __future__ import annotations

import ipaddress
from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from limits import parse as parse_rate_limit

from config.env import Env, load_dotenv
from config.flower import parse_basic_auth
from core.logging import LOG_FORMAT
from core.queues import (
    ENRICHMENT_QUEUE,
    LONGEST_HARD_LIMIT_S,
    PRIORITY_STEPS,
    WALLET_QUEUE,
    Priority,
    transport_priority,
)

BASE_DIR = Path(__file__).resolve().parent.parent
env = Env()
load_dotenv(Path(env.get_str("ENV_FILE", str(BASE_DIR / ".env"))))

# Production-safe unless told otherwise: development mode (debug pages, a built-in secret key, plain HTTP)
# is turned on explicitly with DEBUG=true, as ./scripts/demo and ./scripts/test do.
DEBUG = env.get_bool("DEBUG", False)
_DEV_SECRET = "insecure-local-development-key-do-not-use-in-production"
SECRET_KEY = env.get_str("DJANGO_SECRET_KEY", _DEV_SECRET if DEBUG else "")
if not SECRET_KEY or (not DEBUG and SECRET_KEY == _DEV_SECRET):
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY must be set when DEBUG is false (DEBUG=true turns local development mode on)"
    )
ALLOWED_HOSTS = env.get_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set when DEBUG is false")
# Origins other than the request's own that may POST with the session cookie (scheme, host and port, e.g.
# https://wallets.example.com:8443). The proxy passes the Host with its port, so the site's own origin needs
# no entry.
CSRF_TRUSTED_ORIGINS = env.get_list("CSRF_TRUSTED_ORIGINS", [])

# --- HTTPS: in production browsers reach the site only through a TLS proxy (docker/nginx.conf) ---
# HTTPS_ONLY (default: on unless DEBUG) sets the defaults of the settings below; each can be set on its own.
# Plain-HTTP setups (local runs, tests, benchmarks) turn it off.
HTTPS_ONLY = env.get_bool("HTTPS_ONLY", not DEBUG)
SECURE_SSL_REDIRECT = env.get_bool("SECURE_SSL_REDIRECT", HTTPS_ONLY)
# Liveness probes and metrics scrapers speak plain HTTP to the container itself, not through the proxy.
SECURE_REDIRECT_EXEMPT = [r"^health$", r"^metrics$"]
SESSION_COOKIE_SECURE = env.get_bool("SESSION_COOKIE_SECURE", HTTPS_ONLY)
CSRF_COOKIE_SECURE = env.get_bool("CSRF_COOKIE_SECURE", HTTPS_ONLY)
SECURE_HSTS_SECONDS = env.get_int("SECURE_HSTS_SECONDS", 31_536_000 if HTTPS_ONLY else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.get_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env.get_bool("SECURE_HSTS_PRELOAD", True)
# The header through which the proxy says the browser used HTTPS (it must overwrite the client's own).
_proxy_ssl_header = env.get_header_name("SECURE_PROXY_SSL_HEADER", "X-Forwarded-Proto" if HTTPS_ONLY else "")
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_" + _proxy_ssl_header.upper().replace("-", "_"), "https") if _proxy_ssl_header else None
)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "axes",
    "wallets",
    "analysis",
    "similarity",
    "holders",
    "enrichment",
    "jobs",
    "lab",
    "core",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Serves the admin's, the API docs' and the Lab's static files from gunicorn, also with DEBUG off.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: answers a locked-out login with 429.
    "axes.middleware.AxesMiddleware",
]

# --- Login attempts (the admin's and the Lab's forms; API tokens never go through a login form) ---
# django-axes counts failed logins per username and client address; at LOGIN_FAILURE_LIMIT that pair is
# refused, even with the right password, for LOGIN_COOLOFF_S. Per pair, so nobody can lock a user out from
# another address.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.get_int("LOGIN_FAILURE_LIMIT", 5, minimum=1, maximum=1000)
AXES_COOLOFF_TIME = timedelta(seconds=env.get_int("LOGIN_COOLOFF_S", 900, minimum=1, maximum=30 * 86400))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# Failed attempts are what the limit needs; a row per successful login would only grow.
AXES_DISABLE_ACCESS_LOG = True
AXES_LOCKOUT_TEMPLATE = "lab/locked_out.html"
# Not a banner in every process's and command's output; lockouts are still logged.
AXES_VERBOSE = False
# Behind a proxy every connection comes from the proxy: the header in which it passes the client's address
# (docker/nginx.conf sets X-Real-IP, overwriting any the client sent). Empty: the connection's own address.
CLIENT_IP_HEADER = env.get_header_name("CLIENT_IP_HEADER", "")
AXES_CLIENT_IP_CALLABLE = "core.client_ip.client_ip_address"

ROOT_URLCONF = "config.urls"
# The Similarity Lab (`/`) signs users in with Django sessions; the API also accepts tokens.
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"
# Where browsers open the job-progress WebSocket. Empty: the page's own origin (`/ws/job-progress/` behind
# the reverse proxy). Set it when daphne answers on another host or port: ws://127.0.0.1:8001/ws/job-progress/
WEBSOCKET_PUBLIC_URL = env.get_url("WEBSOCKET_PUBLIC_URL", "", schemes=("ws", "wss"))
# The largest message a client may send on the job-progress WebSocket (a subscribe is under 100 bytes);
# a bigger one is answered with an error. daphne itself closes a socket on a message over 1 MiB.
WEBSOCKET_MAX_MESSAGE_BYTES = env.get_int(
    "WEBSOCKET_MAX_MESSAGE_BYTES", 4096, minimum=256, maximum=1024 * 1024
)
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database: PostgreSQL is the source of truth; SQLite (WAL) is the embedded local default ---
DATABASE_URL = env.get_url(
    "DATABASE_URL",
    f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}",
    schemes=("sqlite", "postgres", "postgresql"),
)
_database = environ.Env.db_url_config(DATABASE_URL)
if _database["ENGINE"] == "django.db.backends.sqlite3":
    Path(_database["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # Workers in several processes write at once: WAL lets readers run beside one writer, IMMEDIATE takes
    # the write lock up front so two writers queue on the timeout instead of failing mid-transaction.
    _database["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
else:
    # Persistent connections: measured ~85 req/s without vs ~315 req/s with on the submit endpoint
    # (docs/ARCHITECTURE.md §14).
    _database["CONN_MAX_AGE"] = env.get_int("CONN_MAX_AGE", 300, minimum=0)
    _database["CONN_HEALTH_CHECKS"] = True
    # Every external call has a timeout, the database's too: a server that stops answering must fail the
    # request or task (database errors are retried as transient), not hold a worker thread for good; thread
    # pools cannot enforce Celery's time limits. Keepalives notice a peer that vanished without a reset.
    _statement_timeout_ms = int(env.get_float("DATABASE_STATEMENT_TIMEOUT_S", 300.0, minimum=0) * 1000)
    _database["OPTIONS"] = {
        **_database.get("OPTIONS", {}),
        "connect_timeout": env.get_int("DATABASE_CONNECT_TIMEOUT_S", 5, minimum=1, maximum=300),
        "options": f"-c statement_timeout={_statement_timeout_ms}",
        "keepalives": 1,
        "keepalives_idle": 30,
        "keepalives_interval": 10,
        "keepalives_count": 3,
        # Parameters travel apart from the statement, and a statement a connection has run 5 times is
        # prepared: the server then skips parsing and planning it. Measured on the job machinery
        # (bench_tasks): PostgreSQL's CPU per job 5.3 -> 4.1 ms, jobs/s +11 %. Django turns both off by
        # default for poolers in transaction mode; PgBouncer before 1.21 (or without
        # max_prepared_statements) needs DATABASE_PREPARED_STATEMENTS=false (docs/ARCHITECTURE.md §14).
        "server_side_binding": True,
        "prepare_threshold": 5 if env.get_bool("DATABASE_PREPARED_STATEMENTS", True) else None,
    }
DATABASES = {"default": _database}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: broker, result backend, locks, cache and channel layer, separated by key prefixes ---
REDIS_URL = env.get_url("REDIS_URL", "redis://127.0.0.1:6379/0", schemes=("redis", "rediss", "unix"))
REDIS_SOCKET_TIMEOUT_S = env.get_float("REDIS_SOCKET_TIMEOUT_S", 5.0, minimum=0.1)

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "cache",
        "OPTIONS": {
            "socket_timeout": REDIS_SOCKET_TIMEOUT_S,
            "socket_connect_timeout": REDIS_SOCKET_TIMEOUT_S,
        },
    }
}

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {
            # socket_timeout None: redis-py 8 defaults to 5 s, the same as the layer's blocking pop, which
            # closes every WebSocket idle for ~5 s (channels_redis#422, docs/ARCHITECTURE.md §14).
            "hosts": [{"address": REDIS_URL, "socket_timeout": None}],
            "prefix": "asgi",
            # The default capacity of 100 drops progress events in a burst of parallel wallet syncs.
            "capacity": env.get_int("CHANNEL_LAYER_CAPACITY", 2000, minimum=100),
            "expiry": 60,
        },
    }
}

# --- Celery (namespace CELERY_) ---
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = REDIS_URL
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_ENABLE_UTC = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TRACK_STARTED = True
# No `task-sent` event: it cost a second Redis publish on every send, ~0.3 ms of the submit's CPU
# (docs/BENCHMARKS.md §1), and only Flower reads it (to list a task before a worker receives it). Waiting work
# shows in the ledger (queued jobs) and in /health/queues (waiting messages, oldest waiting age).
CELERY_TASK_SEND_SENT_EVENT = False
# Task events (received, started, succeeded: a fanout publish each) are for Flower, which switches them on in
# every worker when it starts and keeps them on while it runs (its `enable_events`, on by default). Without
# a watcher they cost each worker ~8 % of its CPU per task (docs/BENCHMARKS.md, task overhead), so workers
# start with them off unless WORKER_SEND_TASK_EVENTS says otherwise.
CELERY_WORKER_SEND_TASK_EVENTS = env.get_bool("WORKER_SEND_TASK_EVENTS", False)
CELERY_RESULT_EXPIRES = 24 * 3600
# Only chord header results are stored (for the chord's body); their task's name and arguments are in the
# ledger and the TaskRun rows, so the backend keeps the result alone.
CELERY_RESULT_EXTENDED = False
CELERY_TASK_DEFAULT_QUEUE = ENRICHMENT_QUEUE
CELERY_TASK_DEFAULT_PRIORITY = transport_priority(Priority.NORMAL)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # A message unacknowledged longer than this is delivered again: keep it above every hard limit plus
    # the longest retry countdown, or long tasks run twice (docs/ARCHITECTURE.md §14).
    "visibility_timeout": max(3600, LONGEST_HARD_LIMIT_S * 4),
    "priority_steps": PRIORITY_STEPS,
    "sep": ":",
    "queue_order_strategy": "priority",
    "socket_timeout": REDIS_SOCKET_TIMEOUT_S,
    "socket_connect_timeout": REDIS_SOCKET_TIMEOUT_S,
    "health_check_interval": 10,
}
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {
    "socket_timeout": REDIS_SOCKET_TIMEOUT_S,
    "socket_connect_timeout": REDIS_SOCKET_TIMEOUT_S,
    "retry_policy": {"timeout": 10.0},
}
CELERY_WORKER_MAX_TASKS_PER_CHILD = env.get_int("WORKER_MAX_TASKS_PER_CHILD", 1000, minimum=1)
CELERY_WORKER_MAX_MEMORY_PER_CHILD = env.get_int("WORKER_MAX_MEMORY_PER_CHILD_KB", 512_000, minimum=10_000)
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Celery's Django fixup closes the database connection around every task unless this is set, so CONN_MAX_AGE
# never applied in workers: each task forked a new PostgreSQL backend (measured: 69 ms of PostgreSQL CPU per
# job instead of 13 ms, and 1.65x the jobs/s with connections kept; docs/BENCHMARKS.md, task overhead).
CELERY_DB_REUSE_MAX = env.get_int("CELERY_DB_REUSE_MAX", 1000, minimum=0)
WORKER_AUTOSCALE = env.get_bool("WORKER_AUTOSCALE", False)

# --- API ---
# The largest request body Django reads (Django's DATA_UPLOAD_MAX_MEMORY_SIZE): a bigger one is refused from
# its Content-Length before it is read, with a 400 `body_too_large`. The largest valid submission,
# MAX_WALLETS_PER_JOB addresses, is under 50 bytes an address.
REQUEST_MAX_BODY_BYTES = env.get_int(
    "REQUEST_MAX_BODY_BYTES", 1024 * 1024, minimum=1024, maximum=100 * 1024 * 1024
)
DATA_UPLOAD_MAX_MEMORY_SIZE = REQUEST_MAX_BODY_BYTES
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # JSON with bounds: nesting depth, duplicate keys, UTF-8, no unpaired surrogates (core/json_input.py).
    "DEFAULT_PARSER_CLASSES": ["core.parsers.BoundedJSONParser"],
    "EXCEPTION_HANDLER": "core.api.api_exception_handler",
    # Adds the framework's own error answers (401, 403, 415, 429) to every operation's documentation.
    "DEFAULT_SCHEMA_CLASS": "jobs.openapi.ApiAutoSchema",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Solana wallet analysis API",
    "DESCRIPTION": "Submit wallets, follow jobs, read PnL, behaviour and similarity results.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI and Redoc from the pinned drf-spectacular-sidecar package, served by us: no CDN, no @latest.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums"],
}

# --- Product settings ---
JOB_RESULT_FRESHNESS_S = env.get_int("JOB_RESULT_FRESHNESS", 300, minimum=0)
WALLET_SYNC_FRESHNESS_S = env.get_int("WALLET_SYNC_FRESHNESS", 300, minimum=0)
# A sync renews its wallet's lock at every checkpoint; a holder that died frees it after this long.
# Checkpoints can be far apart when many syncs share a slow upstream rate limit, hence a minute by default.
WALLET_SYNC_LOCK_TTL_S = env.get_int("WALLET_SYNC_LOCK_TTL_S", 60, minimum=5, maximum=3600)
# History depth (docs/ARCHITECTURE.md, "History depth"): a first sync stores the newest INITIAL signatures,
# so a result comes in seconds; deepening (in the background at LOW priority, or in the job for
# `history: "full"`) extends the stored history back to at most MAX_SIGNATURES transactions and MAX_DAYS days
# (0: no limit in days). A wallet's stored rows stay within MAX_SIGNATURES: the oldest go first.
WALLET_SYNC_INITIAL_SIGNATURES = env.get_int(
    "WALLET_SYNC_INITIAL_SIGNATURES", 1000, minimum=1, maximum=1_000_000
)
WALLET_HISTORY_MAX_SIGNATURES = env.get_int(
    "WALLET_HISTORY_MAX_SIGNATURES", 50_000, minimum=1, maximum=10_000_000
)
WALLET_HISTORY_MAX_DAYS = env.get_int("WALLET_HISTORY_MAX_DAYS", 0, minimum=0, maximum=36_500)
if WALLET_SYNC_INITIAL_SIGNATURES > WALLET_HISTORY_MAX_SIGNATURES:
    raise ImproperlyConfigured(
        f"WALLET_SYNC_INITIAL_SIGNATURES={WALLET_SYNC_INITIAL_SIGNATURES} is invalid: expected at most "
        f"WALLET_HISTORY_MAX_SIGNATURES ({WALLET_HISTORY_MAX_SIGNATURES})"
    )
MAX_WALLETS_PER_JOB = env.get_int("MAX_WALLETS_PER_JOB", 100, minimum=2, maximum=5000)
# Job submissions a user may make per window ("N/second|minute|hour|day"; "off": no limit). 429 beyond it.
# An empty value means the default, as for every other variable, so "no limit" has to be said explicitly.
SUBMIT_THROTTLE_RATE = env.get_str("SUBMIT_THROTTLE_RATE", "120/minute").strip()
if SUBMIT_THROTTLE_RATE.lower() == "off":
    SUBMIT_THROTTLE_RATE = ""
if SUBMIT_THROTTLE_RATE:
    try:
        parse_rate_limit(SUBMIT_THROTTLE_RATE)
    except ValueError as exc:
        raise ImproperlyConfigured(f"SUBMIT_THROTTLE_RATE: {exc}; write it like 120/minute") from exc
# A user's active (queued + running) jobs; a bulk job counts with the children it creates. 429 beyond it.
MAX_ACTIVE_JOBS_PER_USER = env.get_int("MAX_ACTIVE_JOBS_PER_USER", 300, minimum=1)
# The synchronous path (POST /analyses/similarity) holds a web thread for the whole analysis: it takes at most
# this many wallets, and runs at most this many calls per user and in total (every gunicorn worker together).
# Keep the total below gunicorn's threads per worker (4 in the Procfile), so every worker keeps a thread for
# everything else even when all the synchronous calls land on it.
SYNC_ANALYSIS_MAX_WALLETS = env.get_int("SYNC_ANALYSIS_MAX_WALLETS", min(20, MAX_WALLETS_PER_JOB), minimum=2)
if SYNC_ANALYSIS_MAX_WALLETS > MAX_WALLETS_PER_JOB:
    raise ImproperlyConfigured(
        f"SYNC_ANALYSIS_MAX_WALLETS={SYNC_ANALYSIS_MAX_WALLETS} is invalid: expected at most "
        f"MAX_WALLETS_PER_JOB ({MAX_WALLETS_PER_JOB})"
    )
SYNC_ANALYSIS_MAX_CONCURRENT_PER_USER = env.get_int("SYNC_ANALYSIS_MAX_CONCURRENT_PER_USER", 1, minimum=1)
SYNC_ANALYSIS_MAX_CONCURRENT = env.get_int("SYNC_ANALYSIS_MAX_CONCURRENT", 2, minimum=1)
# A wallet analysed (PnL, behaviour) this recently, from the same swaps, is served from the stored run.
ANALYSIS_FRESHNESS_S = env.get_int("ANALYSIS_FRESHNESS_S", 600, minimum=0)
# A PnL job fetches the wallet's balances first when the newest snapshot is older than this.
ANALYSIS_BALANCES_MAX_AGE_S = env.get_int("ANALYSIS_BALANCES_MAX_AGE_S", 300, minimum=0)
# Similarity defaults (similarity/engine.py documents how they were measured); a request's options may
# override all but the mints. Extra excluded mints join the built-in stablecoins, WSOL and liquid staking.
SIMILARITY_EXTRA_EXCLUDED_MINTS = env.get_list("SIMILARITY_EXTRA_EXCLUDED_MINTS", [])
# A share of 0 turns the down-weighting off.
SIMILARITY_COMMON_TOKEN_SHARE = env.get_float("SIMILARITY_COMMON_TOKEN_SHARE", 0.5, minimum=0.0, maximum=1.0)
SIMILARITY_COMMON_TOKEN_WEIGHT = env.get_float(
    "SIMILARITY_COMMON_TOKEN_WEIGHT", 0.25, minimum=0.0, maximum=1.0
)
# Goes with the default weights, calibrated on the simulated market (docs/METHODS.md §5).
SIMILARITY_CLUSTER_THRESHOLD = env.get_float("SIMILARITY_CLUSTER_THRESHOLD", 0.06, minimum=0.01, maximum=1.0)
# Co-buys two wallets need before co_trade scores above 0 (docs/METHODS.md §5, "co_trade").
CO_TRADE_MIN_EVENTS = env.get_int("CO_TRADE_MIN_EVENTS", 3, minimum=1, maximum=1000)
# A funder seen sending SOL to more distinct wallets than this is a service, not an owner: it links none.
FUNDER_MAX_FANOUT = env.get_int("FUNDER_MAX_FANOUT", 100, minimum=1)
# Token holders (docs/METHODS.md §6, "Bounds"): a holders job reads at most HOLDERS_MAX_ACCOUNTS token
# accounts of a mint (DAS pages of 1,000; the result says when it stopped there) and pages the mint's
# transactions back at most HOLDERS_MAX_MINT_SIGNATURES looking for its creation and first buyers.
HOLDERS_MAX_ACCOUNTS = env.get_int("HOLDERS_MAX_ACCOUNTS", 20_000, minimum=100, maximum=10_000_000)
HOLDERS_MAX_MINT_SIGNATURES = env.get_int(
    "HOLDERS_MAX_MINT_SIGNATURES", 50_000, minimum=100, maximum=10_000_000
)
# A first buy within this many slots of the mint's creation makes a wallet a sniper (a slot is ~0.4 s).
SNIPER_WINDOW_SLOTS = env.get_int("SNIPER_WINDOW_SLOTS", 20, minimum=0, maximum=100_000)
# A holders job syncs its wallets in batches of HOLDERS_SYNC_BATCH, at most HOLDERS_SYNC_BATCHES_IN_FLIGHT
# batches at once, so one job never queues more than their product of syncs ahead of other jobs' work.
HOLDERS_SYNC_BATCH = env.get_int("HOLDERS_SYNC_BATCH", 16, minimum=1, maximum=1000)
HOLDERS_SYNC_BATCHES_IN_FLIGHT = env.get_int("HOLDERS_SYNC_BATCHES_IN_FLIGHT", 2, minimum=1, maximum=100)
BALANCE_CACHE_TTL_S = 30
# A similarity job reuses balances fetched this recently instead of fetching them again (at most the cache's
# 30 s; 0: every job fetches every wallet's balances).
BALANCE_REUSE_S = env.get_int("BALANCE_REUSE_S", BALANCE_CACHE_TTL_S, minimum=0, maximum=BALANCE_CACHE_TTL_S)
ENRICHMENT_CACHE_TTL_S = 300
# Token metadata younger than this answers instead of DexScreener (unknown tokens too, until it passes).
TOKEN_METADATA_FRESHNESS_S = env.get_int("TOKEN_METADATA_FRESHNESS", 300, minimum=0)
TOKEN_METADATA_REFRESH_INTERVAL_S = env.get_int("TOKEN_METADATA_REFRESH_INTERVAL_S", 6 * 3600, minimum=60)
# The periodic refresh renews the known tokens jobs asked for within SEEN_DAYS, at most MAX_TOKENS a run.
TOKEN_METADATA_REFRESH_SEEN_DAYS = env.get_int("TOKEN_METADATA_REFRESH_SEEN_DAYS", 7, minimum=1)
TOKEN_METADATA_REFRESH_MAX_TOKENS = env.get_int("TOKEN_METADATA_REFRESH_MAX_TOKENS", 3000, minimum=0)
# A running job whose heartbeat is older than this is stalled; 0 means its queue's hard limit plus a minute.
JOB_STALL_TIMEOUT_S = env.get_int("JOB_STALL_TIMEOUT_S", 0, minimum=0)
# A queued job never started after this long lost its message (Redis restart, flush): it is enqueued again.
JOB_QUEUED_LOST_AFTER_S = env.get_int("JOB_QUEUED_LOST_AFTER_S", 600, minimum=1)
STALLED_SWEEP_INTERVAL_S = env.get_int("STALLED_SWEEP_INTERVAL_S", 60, minimum=1)
JOB_RETENTION_DAYS = env.get_int("JOB_RETENTION_DAYS", 30, minimum=1)
# django-celery-beat copies these entries into its tables at start-up; operators edit them in the admin.
CELERY_BEAT_SCHEDULE = {
    "sweep-stalled-jobs": {
        "task": "jobs.sweep_stalled",
        "schedule": float(STALLED_SWEEP_INTERVAL_S),
        # Not on wallet-operations: a dead wallet worker must not also stop the recovery of its own jobs.
        "options": {
            "queue": ENRICHMENT_QUEUE,
            "priority": transport_priority(Priority.HIGH),
            "expires": STALLED_SWEEP_INTERVAL_S,
        },
    },
    "refresh-token-metadata": {
        "task": "enrichment.refresh_token_metadata",
        "schedule": float(TOKEN_METADATA_REFRESH_INTERVAL_S),
        "options": {
            "queue": ENRICHMENT_QUEUE,
            "priority": transport_priority(Priority.MAINTENANCE),
            "expires": TOKEN_METADATA_REFRESH_INTERVAL_S,
        },
    },
    "cleanup-old-rows": {
        "task": "jobs.cleanup",
        "schedule": crontab(hour=2, minute=0),
        "options": {"queue": WALLET_QUEUE, "priority": transport_priority(Priority.MAINTENANCE)},
    },
}
# Task modules beyond the apps' `tasks` modules that autodiscovery finds (the benchmarks add theirs).
CELERY_IMPORTS: list[str] = []
# The one running beat renews its Redis lock every third of this; a beat that died frees it after this long.
BEAT_LOCK_TTL_S = env.get_int("BEAT_LOCK_TTL_S", 30, minimum=2, maximum=3600)
# Health, queue statistics and metrics are computed once per this period, by one caller of every process
# (Redis holds the answer and the lock); the others wait for that answer. 0: computed on every call.
HEALTH_CACHE_S = env.get_float("HEALTH_CACHE_S", 5.0, minimum=0.0)
# Who may read them (everything but the liveness answer at /health): staff users, callers sending
# `Authorization: Bearer <MONITORING_TOKEN>`, and connections from MONITORING_ALLOWED_IPS (addresses or
# networks; the connection's own address, never a forwarded-for header). Empty: staff only.
MONITORING_TOKEN = env.get_str("MONITORING_TOKEN", "")
if MONITORING_TOKEN and len(MONITORING_TOKEN) < 20:
    raise ImproperlyConfigured("MONITORING_TOKEN is invalid: expected at least 20 characters (a secret)")
MONITORING_ALLOWED_IPS = env.get_list("MONITORING_ALLOWED_IPS", [])
for _network in MONITORING_ALLOWED_IPS:
    try:
        ipaddress.ip_network(_network, strict=False)
    except ValueError as exc:
        raise ImproperlyConfigured(
            f"MONITORING_ALLOWED_IPS={','.join(MONITORING_ALLOWED_IPS)!r} is invalid: {exc}"
        ) from exc
QUEUE_STUCK_AFTER_S = env.get_int("QUEUE_STUCK_AFTER_S", 120, minimum=1)
PROGRESS_DB_WRITE_INTERVAL_MS = env.get_int("PROGRESS_DB_WRITE_INTERVAL_MS", 500, minimum=0)

CHAIN_PROVIDER = env.get_choice("CHAIN_PROVIDER", "simulated", ("simulated", "helius"))
HELIUS_API_KEY = env.get_str("HELIUS_API_KEY", "")
HELIUS_API_URL = env.get_url("HELIUS_API_URL", "https://api.helius.xyz", schemes=("http", "https"))
SOLANA_RPC_URL = env.get_url("SOLANA_RPC_URL", "https://mainnet.helius-rpc.com", schemes=("http", "https"))
DEXSCREENER_API_URL = env.get_url(
    "DEXSCREENER_API_URL", "https://api.dexscreener.com", schemes=("http", "https")
)
if CHAIN_PROVIDER == "helius" and not HELIUS_API_KEY:
    raise ImproperlyConfigured("HELIUS_API_KEY must be set when CHAIN_PROVIDER=helius")
HELIUS_RPC_RATE_LIMIT = env.get_str("HELIUS_RPC_RATE_LIMIT", "10/second")
HELIUS_API_RATE_LIMIT = env.get_str("HELIUS_API_RATE_LIMIT", "2/second")
DEXSCREENER_RATE_LIMIT = env.get_str("DEXSCREENER_RATE_LIMIT", "300/minute")
for _name, _limit in (
    ("HELIUS_RPC_RATE_LIMIT", HELIUS_RPC_RATE_LIMIT),
    ("HELIUS_API_RATE_LIMIT", HELIUS_API_RATE_LIMIT),
    ("DEXSCREENER_RATE_LIMIT", DEXSCREENER_RATE_LIMIT),
):
    try:
        parse_rate_limit(_limit)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{_name}: {exc}; write it like 10/second or 300/minute") from exc
# SOL/USD at each trade's minute (PnL in USD at trade time): Pyth Benchmarks' TradingView history endpoint.
SOL_PRICE_HISTORY_URL = env.get_url(
    "SOL_PRICE_HISTORY_URL", "https://benchmarks.pyth.network", schemes=("http", "https")
)
SOL_PRICE_HISTORY_RATE_LIMIT = env.get_str("SOL_PRICE_HISTORY_RATE_LIMIT", "90/10seconds")
try:
    parse_rate_limit(SOL_PRICE_HISTORY_RATE_LIMIT)
except ValueError as exc:
    raise ImproperlyConfigured(f"SOL_PRICE_HISTORY_RATE_LIMIT: {exc}; write it like 90/10seconds") from exc
# A DexScreener price marks a position only when its pair holds at least this much liquidity (USD).
PRICE_MIN_LIQUIDITY_USD = env.get_float("PRICE_MIN_LIQUIDITY_USD", 1000.0, minimum=0.0)
UPSTREAM_TIMEOUT_S = env.get_float("UPSTREAM_TIMEOUT_S", 20.0, minimum=0.1)
# An upstream answer longer than this is not read: the call fails as transient (core/http.py). The largest
# real answers (100 enhanced transactions, a wallet's token accounts) are a few MB.
UPSTREAM_MAX_RESPONSE_BYTES = env.get_int(
    "UPSTREAM_MAX_RESPONSE_BYTES", 32 * 1024 * 1024, minimum=64 * 1024, maximum=1024 * 1024 * 1024
)
# A Retry-After up to this long is waited for inside the call; a longer one fails it as transient, and the
# task retries with its queue's backoff instead of holding a worker thread.
UPSTREAM_MAX_RETRY_AFTER_S = env.get_float("UPSTREAM_MAX_RETRY_AFTER_S", 30.0, minimum=0.0, maximum=3600.0)
# Retries inside one upstream call (429, 5xx, network): the first at once, then BACKOFF_S x 2^(n-1) seconds
# (at most 10 s), or the upstream's Retry-After. Each retry takes its own slot of the API's global rate
# limit. The task then retries the whole step with its queue's attempts (core/upstream.py says why both).
UPSTREAM_RETRIES = env.get_int("UPSTREAM_RETRIES", 3, minimum=0, maximum=10)
UPSTREAM_RETRY_BACKOFF_S = env.get_float("UPSTREAM_RETRY_BACKOFF_S", 0.5, minimum=0.0, maximum=10.0)
SIMULATED_LATENCY_MS = env.get_int("SIMULATED_LATENCY_MS", 0, minimum=0, maximum=60_000)
SIMULATED_FAULT_RATE = env.get_float("SIMULATED_FAULT_RATE", 0.0, minimum=0.0, maximum=1.0)
SIMULATED_SEED = env.get_int("SIMULATED_SEED", 0)
# The simulated market's calls take slots of the global limits of the upstreams it stands in for (the
# HELIUS_*, DEXSCREENER_ and SOL_PRICE_HISTORY_ rate limits), as the real clients do: for benchmarks of runs
# bound by the upstream's limits. Off, the market answers at its own pace (demos, tests).
SIMULATED_RATE_LIMITS = env.get_bool("SIMULATED_RATE_LIMITS", False)
# What the simulated market keeps in each process between calls: generated histories (wallets, least
# recently used dropped first) and each token's minute prices (hours). It runs inside the workers, so these
# caches are part of a worker's memory that a real upstream would not add (docs/BENCHMARKS.md, bulk runs).
SIMULATED_HISTORY_CACHE_WALLETS = env.get_int("SIMULATED_HISTORY_CACHE_WALLETS", 512, minimum=1)
SIMULATED_PRICE_CACHE_HOURS = env.get_int("SIMULATED_PRICE_CACHE_HOURS", 256, minimum=1)

# Flower's `user:password[,user:password]`; empty is allowed here, but `python -m config.flower` refuses it.
FLOWER_BASIC_AUTH = env.get_str("FLOWER_BASIC_AUTH", "")
if FLOWER_BASIC_AUTH:
    try:
        FLOWER_BASIC_AUTH = ",".join(parse_basic_auth(FLOWER_BASIC_AUTH))
    except ValueError as exc:
        raise ImproperlyConfigured(f"FLOWER_BASIC_AUTH is invalid: {exc}") from exc

# --- Internationalisation and static files ---
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
# Without collectstatic (local runs, tests) serve straight from the apps; images run collectstatic.
WHITENOISE_USE_FINDERS = DEBUG
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns on every start when it is missing

LOG_LEVEL = env.get_choice("LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR"))
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"task_context": {"()": "core.logging.TaskContextFilter"}},
    "formatters": {"plain": {"format": LOG_FORMAT}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["task_context"]},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
