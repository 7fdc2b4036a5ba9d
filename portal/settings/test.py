"""Settings for pytest: base.py plus fast, isolated defaults. Services come from the environment."""

from .base import *  # noqa: F403
from .base import CACHES, env

SECRET_KEY = "test-secret-key-not-for-anything-else-0123456789abcdefghijklmnop"  # noqa: S105
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Unit tests run tasks in-process; the service lane's real-worker tests switch this off.
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
if not env.str("CACHE_URL", default=""):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Serve static files from the apps' folders without a collectstatic step.
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
# Lets two runs against one PostgreSQL server (a developer's and CI's) use different test databases.
if env.str("SUANLI_TEST_DATABASE_NAME", default=""):
    DATABASES["default"]["TEST"] = {"NAME": env.str("SUANLI_TEST_DATABASE_NAME")}  # noqa: F405
