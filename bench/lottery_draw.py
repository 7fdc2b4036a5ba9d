"""Benchmark of the suanli-draw/1 computation and the standalone verifier.

Prints, for N entrants (default 1,000,000):
  floor     SHA-256 tickets plus a sort of (ticket, ref) in plain Python, measured in this run
  draw      lottery.draw.run_draw (validation, digest, seed, tickets, ranking, selection)
  record    writing the published JSON record
  verifier  lottery/verify_draw.py: its checking alone, and end to end as a user runs it
            (a new Python process reading the JSON file)
with each time's ratio to the floor and the peak memory (max RSS) of each child process.
Targets (issue 3): draw <= 4x floor, verifier <= 1.5x floor, memory < 2 GB.

Usage: .venv/bin/python bench/lottery_draw.py [--entrants 20000]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lottery.draw import Beacon, DrawInput, Quota, parse_input, run_draw  # noqa: E402

QUOTAS = {"first-time": Quota(200, None), "returning": Quota(0, 300)}
BEACON = Beacon(
    source="drand",
    chain_hash="52db9ba70e0cc0f6eaf7803dd07447a1f5477735fd3f661792ba94600c84e971",
    round=123,
    randomness="fb8f7bc29bf24db51871ec8c79f3a1e4bd0557bc0dfcee9ed1d924e69d1c60dc",
    signature="b75c69d0b72a5d906e854e808ba7e2accb1542ac355ae486d591aa9d43765482e26cd02df835d3546d23c4b13e0dfc92",
)


def entrants(n: int) -> tuple[list[str], list[str]]:
    refs = [f"SL-{i:07d}" for i in range(n)]
    strata = [("first-time", "returning", "")[i % 3] for i in range(n)]
    return refs, strata


def draw_input(n: int) -> DrawInput:
    refs, strata = entrants(n)
    return DrawInput("bench-2026", 1000, dict(QUOTAS), refs, strata, BEACON)


def floor_seconds(n: int) -> float:
    refs, _ = entrants(n)
    seed = "ab" * 32
    start = time.perf_counter()
    tickets = [hashlib.sha256(f"{seed}:{ref}".encode()).hexdigest() for ref in refs]
    ordered = sorted(zip(tickets, refs, strict=True))
    elapsed = time.perf_counter() - start
    assert len(ordered) == n
    return elapsed


def max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def phase_draw(n: int, record_path: str) -> dict:
    from lottery.record import build_record, record_dumps

    floor_before = floor_seconds(n)
    data = draw_input(n)
    # The machine may be shared: the best of three runs is the least disturbed one.
    draw_seconds = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        result = run_draw(data)
        draw_seconds = min(draw_seconds, time.perf_counter() - start)
    start = time.perf_counter()
    refs = sorted(data.refs)
    strata_of = dict(zip(data.refs, data.strata, strict=True))
    record = build_record(
        draw_id=data.draw_id,
        winners=data.winners,
        quotas=data.quotas,
        entries_close_at=None,
        beacon=data.beacon,
        entrants=(refs, [strata_of[r] for r in refs]),
        entrants_digest=result.entrants_digest,
        result=result,
    )
    record["entries_close_at"] = "2023-08-23T15:00:00Z"
    text = record_dumps(record)
    Path(record_path).write_text(text)
    record_seconds = time.perf_counter() - start
    return {
        "floor": min(floor_before, floor_seconds(n)),
        "draw": draw_seconds,
        "record": record_seconds,
        "record_mb": len(text) / 1e6,
        "rss": max_rss_mb(),
    }


def phase_verify(record_path: str, n: int) -> dict:
    import lottery.verify_draw as verifier

    floor_before = floor_seconds(n)
    start = time.perf_counter()
    record = json.loads(Path(record_path).read_bytes())
    load_seconds = time.perf_counter() - start
    check_seconds = float("inf")
    for _ in range(3):
        report = verifier.Report(100)
        start = time.perf_counter()
        verifier.verify(record, report)
        check_seconds = min(check_seconds, time.perf_counter() - start)
    if report.total:
        raise SystemExit(f"verifier found mismatches: {report.problems[:3]}")
    return {
        "floor": min(floor_before, floor_seconds(n)),
        "load": load_seconds,
        "check": check_seconds,
        "rss": max_rss_mb(),
    }


def child(*args: str) -> dict:
    output = subprocess.run(
        [sys.executable, __file__, *args], capture_output=True, check=True, text=True
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entrants", type=int, default=1_000_000)
    parser.add_argument("--phase", choices=["draw", "verify"], help=argparse.SUPPRESS)
    parser.add_argument("--record", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase == "draw":
        print(json.dumps(phase_draw(args.entrants, args.record)))
        return
    if args.phase == "verify":
        print(json.dumps(phase_verify(args.record, args.entrants)))
        return

    n = args.entrants
    # Sanity: the code being timed still reproduces a published vector.
    vectors = json.loads((ROOT / "lottery/vectors/lottery-vectors.json").read_text())["vectors"]
    big = next(v for v in vectors if v["name"] == "ten-thousand")
    assert run_draw(parse_input(big["input"])).seed == big["expect"]["seed"]

    floor = min(floor_seconds(n) for _ in range(2))
    with tempfile.TemporaryDirectory() as tmp:
        record_path = os.path.join(tmp, "record.json")
        drawn = child("--phase", "draw", "--entrants", str(n), "--record", record_path)
        checked = child("--phase", "verify", "--entrants", str(n), "--record", record_path)
        floor_end_to_end = floor_seconds(n)
        start = time.perf_counter()
        completed = subprocess.run(
            [sys.executable, str(ROOT / "lottery/verify_draw.py"), record_path],
            capture_output=True,
            text=True,
            check=False,
        )
        end_to_end = time.perf_counter() - start
        if completed.returncode != 0:
            raise SystemExit(f"verifier failed: {completed.stdout[-500:]}")

    # The machine may be shared: each time is compared with the best of two floors measured
    # in the same process just before and after it (best of three runs for draw and check).
    def row(name: str, seconds: float, floor: float, target: str = "") -> None:
        print(f"{name:<44} {seconds:8.3f} s  {seconds / floor:6.2f}x floor {floor:.3f} s  {target}")

    print(f"entrants: {n:,}")
    print(f"{'floor (sha256 tickets + sort in plain Python)':<44} {floor:8.3f} s (this process)")
    row("draw (run_draw)", drawn["draw"], drawn["floor"], "target <= 4x")
    row("draw + record JSON", drawn["draw"] + drawn["record"], drawn["floor"])
    row("verifier: checking (record parsed)", checked["check"], checked["floor"], "target <= 1.5x")
    row("verifier: parsing the JSON record", checked["load"], checked["floor"])
    row("verifier: end to end (new process)", end_to_end, floor_end_to_end)
    print(f"record size: {drawn['record_mb']:.1f} MB")
    print(f"peak memory (max RSS): draw {drawn['rss']:.0f} MB, verifier {checked['rss']:.0f} MB")


if __name__ == "__main__":
    main()
