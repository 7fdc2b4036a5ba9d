"""Browser tests: Playwright drives Debian's Chromium (never a downloaded browser) against
pytest-django's live server, with axe-core (from the npm registry, pinned in package-lock.json,
installed by scripts/setup.sh) injected into every page a founder, staff or the public sees.

One browser for the run (see `browser`), launched by Playwright with a fresh temporary profile
(user-data dir); every test gets fresh browser contexts (no shared cookies or sessions).
Other packages may import `browser`, `new_page`, `check_page` and `_fresh_rate_limits`.
`celery_worker` gives a test a real worker process (scripts/test-browser.sh puts the test
database in a file so that it can share it).
"""

import contextlib
import functools
import os
import re
import signal
import subprocess
import sys
import time
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; Django's ORM (fixtures, factories)
# refuses to run there unless told the calls are deliberate and synchronous.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

from playwright.sync_api import Browser, BrowserContext, Page, Route, expect, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
AXE_FILE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# What docs/UX.md promises: WCAG 2.2 AA as axe-core can check it.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21aa", "wcag22aa"]
NARROW = 320
DESKTOP = {"width": 1280, "height": 900}
# Fail fast: a local page that takes 10 s to answer is a failure, not a wait.
TIMEOUT_MS = 10_000

AXE_OPTIONS = {"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations"]}
expect.set_options(timeout=TIMEOUT_MS)
# Contexts made with JavaScript off. axe-core cannot run in them (its promises wait on timers
# that never fire, so page.evaluate would hang); see assert_accessible.
_SCRIPTLESS: "weakref.WeakSet[BrowserContext]" = weakref.WeakSet()
# The scripted page that stands in for them, one per browser.
_twins: "weakref.WeakKeyDictionary[Browser, Page]" = weakref.WeakKeyDictionary()


# One browser, shared by every package that uses the fixture (tests/letters imports it too):
# Playwright's sync API cannot start twice in one thread, and pytest-django reorders tests, so
# two packages' fixtures can be alive at once. The last user closes it.
_shared: dict = {"users": 0, "playwright": None, "browser": None}


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, launched once for the browser tests (a fresh temporary profile).
    Package scope, not session: Playwright's event loop stops after the last browser test,
    so the rest of the suite runs without it."""
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is not installed: run `bash scripts/setup.sh`")
    _axe_script()  # fails now, not on the first page, when axe-core is not installed
    if _shared["users"] == 0:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
        playwright = sync_playwright().start()
        try:
            _shared["browser"] = playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
            )
        except Exception:
            playwright.stop()
            raise
        _shared["playwright"] = playwright
    _shared["users"] += 1
    try:
        yield _shared["browser"]
    finally:
        _shared["users"] -= 1
        if _shared["users"] == 0:
            try:
                _shared["browser"].close()
            finally:
                _shared["playwright"].stop()
                _shared.update(playwright=None, browser=None)
                # Tests after these run with Django's async-safety check on again.
                os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def new_page(browser: Browser, live_server, transactional_db) -> Iterator[Callable[..., Page]]:
    """new_page(java_script=True, width=1280) -> a page in its own fresh context. The live server
    answers from another thread, so the data must be committed: transactional_db."""
    contexts = []

    def make(*, java_script: bool = True, width: int = DESKTOP["width"]) -> Page:
        context = browser.new_context(
            base_url=live_server.url,
            java_script_enabled=java_script,
            viewport={"width": width, "height": DESKTOP["height"]},
        )
        context.set_default_timeout(TIMEOUT_MS)
        context.add_init_script(_axe_script())
        contexts.append(context)
        if not java_script:
            _SCRIPTLESS.add(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """Rate limits count in the cache, which outlives a test; every browser test starts clean."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@functools.cache
def _axe_script() -> str:
    """axe-core as npm installed it. Missing is a failure, never a skip: a browser suite
    that silently stops checking accessibility would pass on anything."""
    if not AXE_FILE.exists():
        pytest.fail(
            f"{AXE_FILE.relative_to(ROOT)} is missing: run `bash scripts/setup.sh` (npm ci)"
        )
    return AXE_FILE.read_text(encoding="utf-8")


def axe_violations(page: Page) -> list[dict]:
    """axe-core's violations for the page (axe is added to each document by an init script in
    the contexts made here, and injected on the spot anywhere else)."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(_axe_script())
    return page.evaluate(
        "options => axe.run(document, options).then(r => r.violations)", AXE_OPTIONS
    )


def describe_violations(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"][:5]:
            lines.append(f"    at {' '.join(map(str, node['target']))}: {node['html'][:200]}")
            summary = (node.get("failureSummary") or "").replace("\n", " ")
            if summary:
                lines.append(f"      {summary[:300]}")
    return "\n".join(lines)


def assert_accessible(page: Page) -> None:
    """Zero axe-core violations (WCAG 2.2 AA tags) on the page as it is now.

    A page in a context without JavaScript is checked through a twin: its DOM, with any
    <script> removed, served at the same URL to a scripted context (so styles load the same)."""
    if page.context not in _SCRIPTLESS:
        violations = axe_violations(page)
    else:
        violations = _axe_violations_of_scriptless(page)
    assert not violations, f"axe-core on {page.url}:\n{describe_violations(violations)}"


def _axe_violations_of_scriptless(page: Page) -> list[dict]:
    html = re.sub(r"<script\b.*?</script\s*>", "", page.content(), flags=re.S | re.I)
    document_url = page.url.split("#", 1)[0]
    twin = _twin_page(page)
    twin.unroute_all()

    def serve_snapshot(route: Route) -> None:
        route.fulfill(status=200, content_type="text/html; charset=utf-8", body=html)

    twin.route(lambda url: url.split("#", 1)[0] == document_url, serve_snapshot)
    try:
        twin.goto(page.url)
        return axe_violations(twin)
    finally:
        twin.unroute_all()


def _twin_page(page: Page) -> Page:
    """One scripted page, kept for the browser's lifetime (a renderer start costs more than
    the check), sized like the page it stands in for. It only ever shows served snapshots."""
    browser = page.context.browser
    assert browser is not None
    twin = _twins.get(browser)
    if twin is None or twin.is_closed():
        twin_context = browser.new_context()
        twin_context.set_default_timeout(TIMEOUT_MS)
        twin = twin_context.new_page()
        _twins[browser] = twin
    if page.viewport_size:
        twin.set_viewport_size(page.viewport_size)
    return twin


def assert_reflows(page: Page) -> None:
    """WCAG 1.4.10: at 320 CSS px wide, nothing needs horizontal scrolling."""
    size = page.viewport_size
    if size and size["width"] != NARROW:
        page.set_viewport_size({"width": NARROW, "height": size["height"]})
    try:
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        assert scroll_width <= NARROW, (
            f"{page.url} scrolls sideways at {NARROW} px: scrollWidth {scroll_width}; widest: "
            + page.evaluate(_WIDEST_ELEMENTS_JS, NARROW)
        )
    finally:
        if size and size["width"] != NARROW:
            page.set_viewport_size(size)


_WIDEST_ELEMENTS_JS = """(limit) => Array.from(document.querySelectorAll('body *'))
  .filter(e => e.getBoundingClientRect().right > limit + 0.5)
  .slice(-5)
  .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
       (e.className && typeof e.className === 'string' ? '.' + e.className.trim().split(/\\s+/).join('.') : '') +
       ' right=' + Math.round(e.getBoundingClientRect().right))
  .join('; ')"""


def check_page(page: Page, *, language: str) -> None:
    """What every page must pass: the right `lang`, axe clean, and reflow at 320 px."""
    assert page.locator("html").get_attribute("lang") == language, page.url
    assert_accessible(page)
    assert_reflows(page)


# --- a real Celery worker on the browser lane's database and broker -------------------------


class Worker:
    """A `celery worker` subprocess on the same database and broker as the test. It starts in
    the background (a worker boots in seconds; the journey does not wait for it) and takes
    tasks only inside `taking_tasks()`: outside it the portal's tasks run eagerly, in process,
    so e-mails still land in the test's mail outbox."""

    def __init__(self, process: subprocess.Popen, log_path: Path) -> None:
        self.process = process
        self.log_path = log_path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    @contextlib.contextmanager
    def taking_tasks(self) -> Iterator["Worker"]:
        from portal.celery import app

        deadline = time.monotonic() + 90
        while "ready." not in self.log():
            if self.process.poll() is not None or time.monotonic() > deadline:
                pytest.fail("the Celery worker did not start:\n" + self.log()[-3000:])
            time.sleep(0.2)
        previous = app.conf.task_always_eager
        app.conf.task_always_eager = False
        try:
            yield self
        finally:
            app.conf.task_always_eager = previous


@pytest.fixture
def celery_worker(live_server, transactional_db, tmp_path) -> Iterator[Worker]:
    """A real worker, on whatever the browser lane runs: a SQLite file and the embedded
    file-system broker (scripts/test-browser.sh), or PostgreSQL and Redis. An in-memory
    test database cannot be shared with another process, so that is a failure, not a skip."""
    from django.conf import settings
    from django.db import connection

    from tests.conftest import _database_url_for_test_db

    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.fail(
            "a real worker needs a test database in a file: run `bash scripts/test-browser.sh` "
            "(it sets SUANLI_TEST_DATABASE_NAME)"
        )
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings.test",
        "DATABASE_URL": _database_url_for_test_db(),
    }
    if settings.CELERY_BROKER_URL.startswith("redis://"):
        # A shared Redis may hold messages of an earlier run; the file broker's folder is this
        # run's own (test-browser.sh gives the lane a fresh SUANLI_VAR_DIR).
        subprocess.run(
            [sys.executable, "-m", "celery", "-A", "portal", "purge", "-f"],
            cwd=ROOT,
            env=environment,
            check=True,
            capture_output=True,
            timeout=60,
        )
    log_path = tmp_path / "worker.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "portal",
                "worker",
                "--loglevel=INFO",
                "--concurrency=1",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=ROOT,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield Worker(process, log_path)
    finally:
        # Cold shutdown (the test has waited for the work it sent; a warm one takes seconds),
        # asked of the main process, which stops its pool's children itself.
        process.send_signal(signal.SIGQUIT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
