"""Reference center receiver for Suanli grant webhooks (docs/webhooks.md).

A small standalone process a computing center can run or copy: it verifies
Standard Webhooks signatures, stores each ``webhook-id`` once, ignores grant
versions at or below the one already applied, and keeps a balance per grant.
It deliberately imports nothing from Django or from the portal.

Run it with ``python -m receiver --port 8765 --secret whsec_... --db var/receiver.sqlite3``.
"""

from receiver.server import ReceiverServer
from receiver.store import ReceiverStore

__all__ = ["ReceiverServer", "ReceiverStore"]
