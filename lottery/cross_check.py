"""The independent recomputation of a draw's stored ranking, in a process of its own.

Before a draw is published, ``lottery.services.draw_execute`` has its ranking recomputed by the
standalone verifier's code (``verify_draw``: another implementation of the spec, written apart
from ``lottery.draw``) and refuses to publish on any difference. On a million entrants that
recomputation costs more than the draw itself; run here, in a second process, it takes the
machine's other core while the draw computes and stores its result, and the two meet as one
SHA-256 over the exact ranking text the draw stores (``lottery.ranking``). A difference makes
the service compare column by column in its own process, to name what differs.

Standard library only, no Django: ``python -m lottery.cross_check`` reads on stdin a JSON line
(draw_id, winners, quotas as {stratum: [reserved, cap]}, beacon_line, block), then the frozen
entrants' lines (``ref TAB stratum LF``, sorted by ref), a NUL byte, and their application ids
(comma separated, in the same order); it prints one JSON line: entrants_digest, seed,
ranking_sha256 and winners.
"""

from __future__ import annotations

import hashlib
import json
import operator
import subprocess
import sys
import tempfile
from itertools import accumulate
from pathlib import Path

from lottery import verify_draw as independent

# Run as ``python -m lottery.cross_check`` from here: as a script, this folder would come first
# on the path and lottery/selectors.py would stand in for the standard library's selectors.
PROJECT_ROOT = Path(__file__).resolve().parent.parent


def recompute(header: dict, entrants_text: str, ids_text: str) -> dict:
    text = entrants_text[:-1] if entrants_text.endswith("\n") else entrants_text
    fields = text.replace("\n", "\t").split("\t") if text else []
    refs, strata = fields[0::2], fields[1::2]
    ids = ids_text.split(",") if ids_text else []
    # Step 1: the digest is the SHA-256 of exactly the published entrants text, which is what
    # arrives here; hashing it as it is spares building the million lines again.
    digest = hashlib.sha256(entrants_text.encode()).hexdigest()
    seed = independent.seed_of(header["draw_id"], digest, header["beacon_line"])
    tickets = independent.tickets_of(seed, refs)
    # The spec's order by (ticket, ref): refs arrive sorted, so a stable sort of positions by
    # ticket alone keeps equal tickets in ref order.
    order = sorted(range(len(refs)), key=tickets.__getitem__)
    # One C-level pick per column (a Python loop per column costs several times as much).
    pick = operator.itemgetter(*order) if len(order) > 1 else lambda column: tuple(column)
    ranked_refs, ranked_strata = pick(refs), pick(strata)
    quotas = {s: (reserved, cap) for s, (reserved, cap) in header["quotas"].items()}
    chosen = independent.outcomes_of(list(ranked_strata), header["winners"], quotas)
    positions = _waitlist_positions(chosen)
    columns = (
        ranked_refs,
        list(map(str, range(1, len(refs) + 1))),
        ranked_strata,
        pick(tickets),
        pick(ids),
        positions,
    )
    # Block by block, so the million lines never exist at once (about 200 MB less).
    hasher = hashlib.sha256()
    block = header["block"]
    for start in range(0, len(refs), block):
        lines = map(
            "\t".join, zip(*(column[start : start + block] for column in columns), strict=True)
        )
        hasher.update(("\n" + "\n".join(lines) + "\n").encode())
    return {
        "entrants_digest": digest,
        "seed": seed,
        "ranking_sha256": hasher.hexdigest(),
        "winners": sum(chosen),
    }


def _waitlist_positions(chosen: list[bool]) -> list[str]:
    """Waitlist position of each rank as text ("" for a winner). After the last winner every
    rank is waitlisted in turn, so that long tail is one C-level map, not a Python loop."""
    winners_from_end = chosen[::-1]
    last_winner = len(chosen) - 1 - winners_from_end.index(True) if True in chosen else -1
    head = chosen[: last_winner + 1]
    # Counted from an int: a running sum of bools alone starts with the bool True, not 1.
    waiting = accumulate(map(operator.not_, head), initial=0)
    next(waiting)
    positions = ["" if winner else str(n) for winner, n in zip(head, waiting, strict=True)]
    first = len(head) - sum(head) + 1
    positions.extend(map(str, range(first, first + len(chosen) - len(head))))
    return positions


class Recomputation:
    """The recomputation running in a child process; ``result()`` waits for its answer
    (None if the process failed: the caller then checks in its own process)."""

    def __init__(self, header: dict, entrants_text: str, ids_text: str, timeout: float) -> None:
        # The input goes through a file, not a pipe fed by a thread of this process: that
        # thread would need this process's interpreter lock for every 4 KB written, and the
        # draw computing here holds it, so the child would wait for its input for seconds.
        with tempfile.TemporaryFile() as given:
            given.write(json.dumps(header).encode() + b"\n")
            given.write(entrants_text.encode())
            given.write(b"\0")
            given.write(ids_text.encode())
            given.seek(0)
            self._process = subprocess.Popen(
                [sys.executable, "-m", "lottery.cross_check"],
                cwd=PROJECT_ROOT,
                stdin=given,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
        self._timeout = timeout
        self._error = ""

    def result(self) -> dict | None:
        try:
            out, err = self._process.communicate(timeout=self._timeout)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.communicate()
            self._error = f"no answer within {self._timeout:.0f} s"
            return None
        if self._process.returncode != 0:
            self._error = err.decode(errors="replace")[-2000:]
            return None
        try:
            return json.loads(out)
        except ValueError:
            self._error = f"unreadable answer: {out[:200]!r}"
            return None

    def error(self) -> str:
        return self._error


def main() -> int:
    data = sys.stdin.buffer.read()
    header_line, _, rest = data.partition(b"\n")
    entrants, _, ids = rest.partition(b"\0")
    answer = recompute(json.loads(header_line), entrants.decode(), ids.decode())
    sys.stdout.write(json.dumps(answer) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
