"""A tampered or malformed record is reported by the standalone verifier, never a crash."""

from __future__ import annotations

import copy
import hashlib
import http.server
import json
import threading

import pytest

from tests.lottery.helpers import record_from_vector, run_verifier, vector

GOOD = record_from_vector(vector("strata-reserved-cap"))
QUICKNET_GOOD = record_from_vector(vector("three-no-strata"))


def _run(tmp_path, record, *, raw: bytes | None = None):
    path = tmp_path / "record.json"
    path.write_bytes(raw if raw is not None else json.dumps(record).encode())
    completed = run_verifier(path)
    out = completed.stdout.decode()
    err = completed.stderr.decode()
    assert "Traceback" not in out + err, out + err
    return completed.returncode, out


def _tampered(base, change):
    record = copy.deepcopy(base)
    change(record)
    return record


def _swap_first_two(record):
    a, b = record["results"][0], record["results"][1]
    a["ref"], b["ref"] = b["ref"], a["ref"]
    a["ticket"], b["ticket"] = b["ticket"], a["ticket"]
    a["stratum"], b["stratum"] = b["stratum"], a["stratum"]


def _promote_a_loser(record):
    loser = next(r for r in record["results"] if r["outcome"] == "waitlist")
    loser["outcome"] = "winner"


def _new_signature(record):
    # A different signature whose randomness still equals SHA-256(signature): only the BLS
    # check can tell it was invented.
    signature = "a" + record["beacon"]["signature"][1:]
    record["beacon"]["signature"] = signature
    record["beacon"]["randomness"] = hashlib.sha256(bytes.fromhex(signature)).hexdigest()


CASES = {
    "ticket changed": (GOOD, lambda r: r["results"][3].update(ticket="0" * 64), "ticket is"),
    "order swapped": (GOOD, _swap_first_two, "belongs at"),
    "rank changed": (GOOD, lambda r: r["results"][5].update(rank=99), "rank is 99"),
    "rank as bool": (GOOD, lambda r: r["results"][0].update(rank=True), "rank is True"),
    "loser made winner": (GOOD, _promote_a_loser, "outcome is 'winner', recomputed waitlist"),
    "waitlist position": (
        GOOD,
        lambda r: r["results"][-1].update(waitlist_position=1),
        "waitlist_position is 1",
    ),
    "entrant removed": (GOOD, lambda r: r["entrants"].pop(7), "entrants_digest is"),
    "entrant added": (
        GOOD,
        lambda r: r["entrants"].append({"ref": "ZZ-9999", "stratum": ""}),
        "entrant ZZ-9999 has no result",
    ),
    "entrant stratum changed": (
        GOOD,
        lambda r: r["entrants"][0].update(
            stratum="returning" if r["entrants"][0]["stratum"] != "returning" else ""
        ),
        "entrants_digest is",
    ),
    "digest changed": (GOOD, lambda r: r.update(entrants_digest="f" * 64), "entrants_digest is"),
    "seed changed": (GOOD, lambda r: r.update(seed="0" * 64), "seed is"),
    "randomness not hash of signature": (
        GOOD,
        lambda r: r["beacon"].update(randomness="1" * 64),
        "randomness is not SHA-256",
    ),
    "invented signature": (QUICKNET_GOOD, _new_signature, "BLS signature does not verify"),
    "round before close": (
        QUICKNET_GOOD,
        lambda r: r.update(entries_close_at="2026-01-01T00:00:00Z"),
        "not after entries closed",
    ),
    "reserved above winners": (
        GOOD,
        lambda r: r["quotas"]["first-time"].update(reserved=50, cap=None),
        "reserved seats add up to more than winners",
    ),
    "bad ref": (GOOD, lambda r: r["entrants"][0].update(ref="lower"), "is not 1-32 of [A-Z0-9-]"),
    "duplicate entrant": (
        GOOD,
        lambda r: r["entrants"].insert(1, dict(r["entrants"][0])),
        "is repeated",
    ),
    "unsorted entrants": (GOOD, lambda r: r["entrants"].reverse(), "is out of order"),
    "result row missing key": (GOOD, lambda r: r["results"][2].pop("ticket"), "lacks one of"),
    "result row not an object": (GOOD, lambda r: r["results"].__setitem__(2, 7), "lacks one of"),
    "results not a list": (
        GOOD,
        lambda r: r.update(results="all of them"),
        "results is not a list",
    ),
    "ref is a number": (GOOD, lambda r: r["results"][0].update(ref=12), "has no result"),
    "wrong spec": (GOOD, lambda r: r.update(spec="suanli-draw/2"), "spec is"),
    "winners negative": (GOOD, lambda r: r.update(winners=-3), "winners -3"),
    "beacon missing": (GOOD, lambda r: r.pop("beacon"), "beacon is not an object"),
    "quota cap of wrong type": (
        GOOD,
        lambda r: r["quotas"]["returning"].update(cap="3"),
        "cap '3' is not null or >= reserved",
    ),
    "entrant list is a dict": (
        GOOD,
        lambda r: r.update(entrants={"a": 1}),
        "entrants is not a list",
    ),
    "bad promotion list": (GOOD, lambda r: r.update(promotions=5), "must be lists"),
    "a result row duplicated over another": (
        GOOD,
        lambda r: r["results"].__setitem__(5, dict(r["results"][2])),
        "a reference appears twice in results",
    ),
    "a result row removed": (GOOD, lambda r: r["results"].pop(4), "has no result"),
    "a result's stratum changed": (
        GOOD,
        lambda r: r["results"][0].update(
            stratum="returning" if r["results"][0]["stratum"] != "returning" else ""
        ),
        "result stratum",
    ),
    "two results swap strata": (GOOD, lambda r: _swap_strata_of_two_results(r), "result stratum"),
    "a result's stratum is a list": (
        GOOD,
        lambda r: r["results"][0].update(stratum=["first-time"]),
        "result stratum ['first-time']",
    ),
    "a result names a stranger": (
        GOOD,
        lambda r: r["results"][3].update(ref="ZZ-9999"),
        "result ZZ-9999 is not an entrant",
    ),
}


def _swap_strata_of_two_results(record):
    """Every stratum keeps its count of results, but two entrants are listed under each
    other's stratum."""
    first = record["results"][0]
    other = next(r for r in record["results"] if r["stratum"] != first["stratum"])
    first["stratum"], other["stratum"] = other["stratum"], first["stratum"]


@pytest.mark.parametrize("name", list(CASES))
def test_tampered_record_is_reported(tmp_path, name):
    base, change, message = CASES[name]
    code, out = _run(tmp_path, _tampered(base, change))
    assert code == 1, out
    assert "MISMATCH" in out
    assert message in out
    assert "FAILED:" in out


@pytest.mark.parametrize(
    "raw",
    [b"", b"{not json", b"[1, 2, 3]", b"null", b"\xff\xfe", b"[" * 100000, b'{"spec": 5}'],
    ids=["empty", "broken", "list", "null", "binary", "deep", "spec-number"],
)
def test_malformed_files_are_reported_not_crashed(tmp_path, raw):
    code, out = _run(tmp_path, None, raw=raw)
    assert code == 1, out
    assert "MISMATCH" in out


def test_every_mismatch_is_listed_not_only_the_first(tmp_path):
    def change(record):
        for row in record["results"][:5]:
            row["ticket"] = "0" * 64

    code, out = _run(tmp_path, _tampered(GOOD, change))
    assert code == 1
    assert out.count("ticket is '0000") == 5


def test_missing_file_is_reported_with_exit_status_two(tmp_path):
    completed = run_verifier(tmp_path / "nowhere.json")
    assert completed.returncode == 2
    assert "CANNOT READ" in completed.stdout.decode()
    assert "Traceback" not in completed.stderr.decode()


def test_record_from_standard_input():
    completed = run_verifier("-", stdin=json.dumps(GOOD).encode())
    assert completed.returncode == 0, completed.stdout.decode()


def test_record_before_the_draw_checks_the_digest_only(tmp_path):
    record = copy.deepcopy(GOOD)
    record.update(seed=None, results=None)
    record["beacon"].update(randomness=None, signature=None)
    code, out = _run(tmp_path, record)
    assert code == 0, out
    assert "the draw has not run yet" in out
    record["entrants_digest"] = "0" * 64
    code, out = _run(tmp_path, record)
    assert code == 1


def test_record_fetched_by_url(tmp_path):
    """The verifier fetches a record over HTTP, as from the portal's /draws/<id>.json."""
    body = json.dumps(QUICKNET_GOOD).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path == "/draws/wuhan-2026-r1.json":
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            else:
                self.send_error(404)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        completed = run_verifier(f"{base}/draws/wuhan-2026-r1.json")
        assert completed.returncode == 0, completed.stdout.decode()
        assert "BLS signature verified" in completed.stdout.decode()
        missing = run_verifier(f"{base}/draws/nope.json")
        assert missing.returncode == 2
        assert "HTTP Error 404" in missing.stdout.decode()
    finally:
        server.shutdown()
        server.server_close()
