import gc
import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.base")


def behind_proxies(app, proxy_count: int):
    """The client's own address as REMOTE_ADDR when ``proxy_count`` proxies stand in front.

    Behind the TLS proxy every request arrives from the proxy's address, so the per-client
    limits (and logs) would put a whole city in one bucket: the eleventh founder of the hour
    would be refused. Each proxy appends the address it saw to X-Forwarded-For; only the
    last ``proxy_count`` entries are trusted, since anything to their left is whatever the
    client chose to send (werkzeug's ProxyFix implements exactly that rule)."""
    if proxy_count <= 0:
        return app
    from werkzeug.middleware.proxy_fix import ProxyFix

    return ProxyFix(app, x_for=proxy_count)


application = behind_proxies(get_wsgi_application(), settings.PROXY_COUNT)

# Everything loaded by now (Django, the apps, their URL, form and template machinery) lives as
# long as the worker. Moved out of the cyclic collector's reach, those 150,000 objects are no
# longer walked by every full collection, a 50-65 ms pause in the middle of whichever request
# triggers it (0.1-1.2 ms after; the draw's results page went over its 50 ms with that pause).
gc.freeze()
