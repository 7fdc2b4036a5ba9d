"""Shared helpers for the lottery tests: vectors, records built from them, the verifier."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VECTORS_PATH = ROOT / "lottery" / "vectors" / "lottery-vectors.json"
VERIFIER = ROOT / "lottery" / "verify_draw.py"


def load_vectors() -> list[dict]:
    return json.loads(VECTORS_PATH.read_text())["vectors"]


def vector(name: str) -> dict:
    return next(v for v in load_vectors() if v["name"] == name)


def record_from_vector(v: dict, *, entries_close_at: str = "2023-08-23T15:00:00Z") -> dict:
    """The published record the spec describes, filled from a vector's input and expectation."""
    data = v["input"]
    expect = v["expect"]
    return {
        "spec": "suanli-draw/1",
        "draw_id": data["draw_id"],
        "winners": data["winners"],
        "quotas": data["quotas"],
        "entries_close_at": entries_close_at,
        "entrants": sorted(data["entrants"], key=lambda e: e["ref"].encode()),
        "entrants_digest": expect["entrants_digest"],
        "beacon": data["beacon"],
        "seed": expect["seed"],
        "results": expect["results"],
        "withdrawals": [],
        "promotions": [],
    }


def run_verifier(target: str | Path, *extra: str, stdin: bytes | None = None):
    """Run the standalone verifier as a user would: a separate Python process."""
    return subprocess.run(
        [sys.executable, str(VERIFIER), str(target), *extra],
        input=stdin,
        capture_output=True,
        timeout=120,
        check=False,
    )
