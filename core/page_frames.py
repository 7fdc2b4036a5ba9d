"""Pages rendered once per process and filled in per request.

Some public pages are the same markup for every visitor but for a few small parts: the draw page
answering "find my reference" is its rules, timeline and verification text (a hundred translated
strings, most of its cost) around one answer. `frame_render` renders such a page once with
placeholders where requests differ, keeps it in this process under a key made of everything the
page shows (the caller reads that from the database on every request, so a change shows on the
next request with no invalidation), and then answers by joining the kept pieces with this
request's parts: the same bytes as a full render.

A frame is only used for a visitor with no pending messages and no session: the layout shows
messages, and reading them may read the session. Anyone else gets the full render.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.safestring import SafeString, mark_safe

# Versions live at once: two languages times a few draws and states; a deploy starts empty.
FRAMES_MAX = 64
# Placeholders no page content can contain: a random token chosen when the process starts. Only
# letters, digits, "-" and "_", which escaping and URL quoting leave as they are (a placeholder may
# stand for a token inside a link).
_TOKEN = secrets.token_hex(12)
_HOLE = re.compile(rf"FRAME-{_TOKEN}-(\w+)-END")
_frames: dict[str, list[str]] = {}


def frame_hole(name: str) -> SafeString:
    """The placeholder of part `name`. Each part is put in the context under its name; a view
    whose parts sit deeper (rows of a table) places them itself with this."""
    return mark_safe(f"FRAME-{_TOKEN}-{name}-END")  # noqa: S308 - letters, digits, "-", "_"


def frame_usable(request: HttpRequest) -> bool:
    """No messages waiting (cookie) and no session that might hold some: the frame shows none."""
    from django.contrib.messages.storage.cookie import CookieStorage

    return (
        CookieStorage.cookie_name not in request.COOKIES
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
    )


def frame_render(
    request: HttpRequest,
    template_name: str,
    *,
    shown: Any,
    context: Callable[[], dict[str, Any]],
    parts: dict[str, SafeString],
) -> HttpResponse:
    """The page `template_name` would render with `context()` and `parts` (escaped markup, one
    per context variable that differs per request), from this process's frame for `shown`.

    `shown` is everything the frame shows that can change (database values, as plain data);
    the language, time zone, scheme and host are added here. `context` is called only when the
    frame is rendered."""
    key_source = json.dumps(
        [
            template_name,
            translation.get_language(),
            timezone.get_current_timezone_name(),
            request.scheme,
            request.get_host(),
            shown,
        ],
        default=str,
        sort_keys=True,
    )
    key = hashlib.sha256(key_source.encode()).hexdigest()
    pieces = _frames.get(key)
    if pieces is None:
        markup = render_to_string(
            template_name,
            {**context(), **{name: frame_hole(name) for name in parts}, "messages": ()},
            request,
        )
        pieces = _HOLE.split(markup)
        if len(_frames) >= FRAMES_MAX:
            _frames.clear()
        _frames[key] = pieces
    # split() with one group alternates: markup, hole name, markup, ... markup.
    return HttpResponse(
        "".join(piece if index % 2 == 0 else parts[piece] for index, piece in enumerate(pieces))
    )


def model_values(*instances) -> list:
    """Every stored value of these rows, for `shown` (a frame showing a round shows what staff
    may edit in it: keying on all its columns cannot miss one)."""
    return [
        [
            instance._meta.label,
            *(getattr(instance, f.attname) for f in instance._meta.concrete_fields),
        ]
        for instance in instances
    ]


def frames_forget() -> None:
    """Drop every frame of this process (tests)."""
    _frames.clear()
