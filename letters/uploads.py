"""An upload handler that hashes a file as it streams in and keeps none of it.

The verification page promises that an uploaded letter is not stored. Django's default handlers
keep uploads in memory or in a temporary file; this one only feeds a SHA-256, so the bytes never
reach memory as a whole nor the disk.
"""

from __future__ import annotations

import hashlib
import io

from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler


class HashedUpload(UploadedFile):
    """What the form sees instead of the file: its name, size and SHA-256, and no content."""

    def __init__(self, *, name: str, size: int, sha256: str, too_large: bool):
        super().__init__(file=io.BytesIO(b""), name=name, content_type="application/pdf", size=size)
        self.sha256 = sha256
        self.too_large = too_large


class Sha256UploadHandler(FileUploadHandler):
    def __init__(self, request=None, *, max_bytes: int):
        super().__init__(request)
        self.max_bytes = max_bytes

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.hasher = hashlib.sha256()
        self.size = 0
        self.too_large = False

    def receive_data_chunk(self, raw_data, start):
        self.size += len(raw_data)
        if self.size > self.max_bytes:
            self.too_large = True  # keep reading the request, stop hashing
        else:
            self.hasher.update(raw_data)
        return None  # nothing is passed on to another handler

    def file_complete(self, file_size):
        return HashedUpload(
            name=self.file_name,
            size=self.size,
            sha256=self.hasher.hexdigest(),
            too_large=self.too_large,
        )
