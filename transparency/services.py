"""The actions of this app: mark the public figures out of date, and recompute them.

Other apps' services call ``figures_invalidate()`` after a change that moves a figure (a grant
offered, a tranche released, a draw run, a milestone verified); the post_save receivers in
``transparency.signals`` call it too, as a safety net. It only bumps a version number in the
shared cache, so it is cheap, has no other side effect, and is safe inside any transaction:
the next reader (or the periodic refresh) recomputes.
"""

import uuid

from django.core.cache import cache
from django.db import transaction

from .cache import VERSION_KEY, figures_version
from .selectors import figures_store


def figures_invalidate() -> None:
    """Bump the figures' version now and again after the surrounding commit (so a reader that
    recomputed between the change and its commit cannot keep stale figures)."""
    cache.set(VERSION_KEY, uuid.uuid4().hex, None)
    transaction.on_commit(lambda: cache.set(VERSION_KEY, uuid.uuid4().hex, None))


def figures_refresh() -> str:
    """Recompute the figures now (the periodic task), so readers find them ready. Returns
    their ``generated_at``."""
    return figures_store(version=figures_version())["generated_at"]
