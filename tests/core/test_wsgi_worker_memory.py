"""A web worker's long-lived objects are out of the cyclic collector's reach, so no request
pays for a full collection walking all of Django (a 50-65 ms pause on the 2-core server)."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

MEASURE = """
import gc, json, time
import portal.wsgi
frozen = gc.get_freeze_count()
start = time.perf_counter()
gc.collect()
print(json.dumps({"frozen": frozen, "tracked": len(gc.get_objects()),
                  "full_collection_ms": (time.perf_counter() - start) * 1000}))
"""


def test_a_started_worker_freezes_what_it_loaded(tmp_path):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings.base"}
    env["SUANLI_VAR_DIR"] = str(tmp_path)
    for name in ("DATABASE_URL", "CELERY_BROKER_URL", "CACHE_URL"):
        env.pop(name, None)
    completed = subprocess.run(
        [sys.executable, "-c", MEASURE], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert completed.returncode == 0, completed.stderr
    figures = json.loads(completed.stdout.strip().splitlines()[-1])
    # Django and the apps: tens of thousands of objects frozen, a handful still tracked.
    assert figures["frozen"] > 20_000
    assert figures["tracked"] < figures["frozen"] / 10
