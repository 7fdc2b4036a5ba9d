"""Change history of the records staff and founders change (django-simple-history)."""

import functools

from simple_history.manager import HistoryManager
from simple_history.models import HistoricalRecords


class HistoryManagerBuiltOnce(HistoryManager):
    """simple-history builds a new manager class (Django's from_queryset, which inspects every
    queryset method) on each `instance.history`, and saving a record reads it once: 0.2 ms of
    every application submitted at the deadline. The class depends only on its arguments, so
    it is built once per process."""

    @classmethod
    @functools.cache
    def from_queryset(cls, queryset_class, class_name=None):
        return super().from_queryset(queryset_class, class_name)


def history_kept(**options) -> HistoricalRecords:
    """`history = history_kept()` on a model: every change kept with who made it and when."""
    return HistoricalRecords(history_manager=HistoryManagerBuiltOnce, **options)
