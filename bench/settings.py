"""Settings of the benchmark stack: the application's own, plus what only benchmarks need.

Selected with DJANGO_SETTINGS_MODULE=bench.settings by `bench.harness` for every process it starts, so the
application's settings and URLs stay untouched: a bare DRF endpoint to compare the submit endpoint with
(`bench.urls_with_baseline`) and plain Celery no-op tasks to compare the job machinery with
(`bench.celery_tasks`).

`BENCH_CELERY_DB_REUSE_MAX` (unset by default) is an experiment, not a recommendation of a value: Celery's
Django fixup closes every database connection before and after each task unless CELERY_DB_REUSE_MAX is set,
so each task opens a new PostgreSQL connection; setting it shows what keeping them would save.
"""

from config.env import Env
from config.settings import *  # noqa: F403
from config.settings import CELERY_IMPORTS

ROOT_URLCONF = "bench.urls_with_baseline"
CELERY_IMPORTS = [*CELERY_IMPORTS, "bench.celery_tasks"]

_db_reuse_max = Env().get_int("BENCH_CELERY_DB_REUSE_MAX", 0, minimum=0)
if _db_reuse_max:
    CELERY_DB_REUSE_MAX = _db_reuse_max
