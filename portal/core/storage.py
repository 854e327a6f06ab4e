"""Where file contents live, behind a small interface (the local folder by default).

Areas never touch paths: they hand bytes to the store and get a key back, and read by key. A
deployment on several hosts can put a store on shared object storage here without touching
any area (set app.extensions["portal.file_store"] in create_app's caller, or a subclass).
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import BinaryIO, Protocol

from flask import current_app

EXTENSION_KEY = "portal.file_store"


class FileStore(Protocol):
    def save(self, data: bytes) -> str:
        """Keep `data` under a new random key and return the key."""
        ...

    def open(self, key: str) -> BinaryIO:
        """The contents for reading; FileNotFoundError when the key holds nothing."""
        ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None:
        """Forget the contents; a key that holds nothing is not an error."""
        ...


class LocalFileStore:
    """Files in a folder outside static/, under generated names, two levels deep."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, key: str) -> Path:
        if not key.isalnum():  # keys are ours (hex), never a path someone typed
            raise ValueError("invalid storage key")
        return self.root / key[:2] / key

    def save(self, data: bytes) -> str:
        key = secrets.token_hex(20)
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return key

    def open(self, key: str) -> BinaryIO:
        return self.path(key).open("rb")

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)


def file_store() -> FileStore:
    """The application's store: the one set in app.extensions, else the UPLOAD_DIR folder."""
    store = current_app.extensions.get(EXTENSION_KEY)
    if store is None:
        store = LocalFileStore(Path(current_app.config["UPLOAD_DIR"]))
        current_app.extensions[EXTENSION_KEY] = store
    return store
