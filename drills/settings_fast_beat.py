"""Settings for the beat-twice drill: the portal's own settings, with every periodic task of
the beat schedule due every SUANLI_DRILL_BEAT_SECONDS (default 2 s) instead of minutes or
hours, so a drill sees many beats in a minute. Never used outside `drills/`."""

import os

from portal.settings.base import *  # noqa: F403 - the whole portal configuration, unchanged
from portal.settings.base import CELERY_BEAT_SCHEDULE

_EVERY = float(os.environ.get("SUANLI_DRILL_BEAT_SECONDS", "2"))
CELERY_BEAT_SCHEDULE = {
    name: {**entry, "schedule": _EVERY} for name, entry in CELERY_BEAT_SCHEDULE.items()
}
