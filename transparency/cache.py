"""The version key of the cached public figures (no model imports, so any app may use it)."""

from django.core.cache import cache

VERSION_KEY = "transparency:figures:version"


def figures_version() -> str:
    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, "1", None)
        version = cache.get(VERSION_KEY, "1")
    return str(version)
