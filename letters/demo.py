"""Demo letters: every accepted, active, completed or revoked demo grant gets its current letter.

Rendered here rather than left to the worker, so the demo shows downloadable, verifiable letters
as soon as it has loaded. Running it again renders nothing twice (one letter per grant version).
"""

from __future__ import annotations

from grants.models import Grant
from letters import services
from letters.models import GrantLetter


def load_demo(stdout) -> None:
    grants = Grant.objects.filter(status__in=["accepted", "active", "completed", "revoked"])
    rendered = 0
    for grant in grants.order_by("pk"):
        letter = services.letter_schedule(grant=grant)
        if letter.state == GrantLetter.State.PENDING:
            services.letter_render(grant_id=grant.pk, version=letter.version)
            rendered += 1
    stdout.write(f"letters: {rendered} letters rendered, {grants.count()} grants with letters")
