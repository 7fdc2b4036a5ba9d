"""A database cursor for the few hot queries worth preparing."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection
from django.db.backends.utils import CursorDebugWrapper, CursorWrapper


@contextmanager
def server_bound_cursor() -> Iterator[CursorWrapper]:
    """A cursor whose parameters PostgreSQL binds, so psycopg prepares a statement the fifth
    time a connection runs it (DATABASES OPTIONS prepare_threshold) and PostgreSQL plans it
    once per connection. Django's own cursors bind parameters in the client: every query is
    planned again, about a quarter of a millisecond for "find my reference", half its database
    time. Wrapped as Django wraps its cursors, so its queries are logged and counted alike.
    Elsewhere than on PostgreSQL, an ordinary cursor."""
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            yield cursor
        return
    import psycopg

    connection.ensure_connection()
    wrapper = CursorDebugWrapper if connection.queries_logged else CursorWrapper
    with wrapper(psycopg.Cursor(connection.connection), connection) as cursor:
        yield cursor
