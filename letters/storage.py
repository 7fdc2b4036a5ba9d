"""The storage letters are saved to, chosen by setting each time it is used.

A FileField evaluates a storage callable once, when models load; this proxy instead looks up
`storages[settings.LETTERS_STORAGE]` on every call, so switching the setting (a deployment, a
test) takes effect without touching the model or its migration.
"""

from __future__ import annotations

from django.conf import settings
from django.core.files.storage import Storage, storages
from django.utils.deconstruct import deconstructible


@deconstructible(path="letters.storage.LettersStorage")
class LettersStorage(Storage):
    @property
    def target(self) -> Storage:
        return storages[getattr(settings, "LETTERS_STORAGE", "default")]

    def _open(self, name, mode="rb"):
        return self.target.open(name, mode)

    def _save(self, name, content):
        return self.target.save(name, content)

    def save(self, name, content, max_length=None):
        return self.target.save(name, content, max_length=max_length)

    def generate_filename(self, filename):
        return self.target.generate_filename(filename)

    def get_available_name(self, name, max_length=None):
        return self.target.get_available_name(name, max_length=max_length)

    def get_valid_name(self, name):
        return self.target.get_valid_name(name)

    def delete(self, name):
        return self.target.delete(name)

    def exists(self, name):
        return self.target.exists(name)

    def listdir(self, path):
        return self.target.listdir(path)

    def size(self, name):
        return self.target.size(name)

    def url(self, name):
        return self.target.url(name)

    def path(self, name):
        return self.target.path(name)

    def get_modified_time(self, name):
        return self.target.get_modified_time(name)

    def get_created_time(self, name):
        return self.target.get_created_time(name)

    def get_accessed_time(self, name):
        return self.target.get_accessed_time(name)
