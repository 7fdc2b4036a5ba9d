"""Every published test vector, through the portal's draw code and the standalone verifier."""

from __future__ import annotations

import json

import pytest

from lottery import verify_draw
from lottery.draw import draw_from_input, parse_input
from tests.lottery.helpers import load_vectors, record_from_vector, run_verifier

VECTORS = load_vectors()
IDS = [v["name"] for v in VECTORS]


def test_the_vector_file_holds_every_kind_of_case():
    """The suite is only as good as the vectors: at least the six shipped ones are present."""
    assert {"empty", "three-no-strata", "declared-beacon", "strata-reserved-cap"} <= set(IDS)
    assert len(VECTORS) >= 6


@pytest.mark.parametrize("v", VECTORS, ids=IDS)
def test_draw_reproduces_vector_exactly(v):
    """digest, seed and every field of every result row equal the vector's expectation."""
    result = draw_from_input(v["input"])
    assert result.entrants_digest == v["expect"]["entrants_digest"]
    assert result.seed == v["expect"]["seed"]
    assert result.results_as_dicts() == v["expect"]["results"]


@pytest.mark.parametrize("v", VECTORS, ids=IDS)
def test_verifier_functions_reproduce_vector_exactly(v):
    """The verifier's independent code computes the same digest, seed, tickets and outcomes."""
    draw = parse_input(v["input"])
    pairs = sorted(zip(draw.refs, draw.strata, strict=True))
    refs = [r for r, _ in pairs]
    strata = [s for _, s in pairs]
    digest = verify_draw.digest_of(refs, strata)
    assert digest == v["expect"]["entrants_digest"]
    seed = verify_draw.seed_of(draw.draw_id, digest, draw.beacon.line())
    assert seed == v["expect"]["seed"]
    expected = v["expect"]["results"]
    ranked_refs = [row["ref"] for row in expected]
    assert verify_draw.tickets_of(seed, ranked_refs) == [row["ticket"] for row in expected]
    quotas = {s: (q.get("reserved", 0), q.get("cap")) for s, q in v["input"]["quotas"].items()}
    chosen = verify_draw.outcomes_of(
        [row["stratum"] for row in expected], v["input"]["winners"], quotas
    )
    assert ["winner" if c else "waitlist" for c in chosen] == [row["outcome"] for row in expected]


@pytest.mark.parametrize("v", VECTORS, ids=IDS)
def test_standalone_verifier_accepts_every_vector_record(v, tmp_path):
    """Run as a separate process on the record file, the verifier prints OK and exits 0."""
    path = tmp_path / "record.json"
    path.write_text(json.dumps(record_from_vector(v)))
    completed = run_verifier(path)
    out = completed.stdout.decode()
    assert completed.returncode == 0, out
    assert "OK: the record matches suanli-draw/1" in out
    assert "MISMATCH" not in out
    assert f"digest {v['expect']['entrants_digest']}" in out


def test_verifier_checks_the_real_quicknet_signature(tmp_path):
    """For the vector with a real quicknet round the BLS signature is verified, and said so."""
    v = next(v for v in VECTORS if v["input"]["beacon"].get("round") == 123)
    path = tmp_path / "record.json"
    path.write_text(json.dumps(record_from_vector(v)))
    out = run_verifier(path).stdout.decode()
    assert "BLS signature verified" in out


def test_verifier_says_clearly_when_drand_verify_is_missing(tmp_path):
    """Without the drand-verify package (python -S hides site-packages) the verifier still
    checks everything else, and states that the BLS signature was not checked."""
    import subprocess
    import sys

    from tests.lottery.helpers import VERIFIER

    v = next(v for v in VECTORS if v["input"]["beacon"].get("round") == 123)
    path = tmp_path / "record.json"
    path.write_text(json.dumps(record_from_vector(v)))
    completed = subprocess.run(
        [sys.executable, "-S", str(VERIFIER), str(path)], capture_output=True, check=False
    )
    out = completed.stdout.decode()
    assert completed.returncode == 0, out + completed.stderr.decode()
    assert "BLS signature NOT checked: the drand-verify package is not installed" in out
