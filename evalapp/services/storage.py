"""Where evidence files live: one small interface, the instance folder by default.

Files are stored under generated keys, never under the names people gave them. An S3-compatible store can take
this interface's place when several app servers share the load.
"""
import os
import uuid

from flask import current_app


class LocalStorage:
    def __init__(self, root: str):
        self.root = root

    def _path(self, key: str) -> str:
        if not key or "/" in key or "\\" in key or key.startswith("."):
            raise ValueError("bad storage key")
        return os.path.join(self.root, key[:2], key)

    def new_key(self, suffix: str) -> str:
        return f"{uuid.uuid4().hex}{suffix}"

    def save(self, key: str, data: bytes) -> None:
        path = self._path(key)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = path + ".part"
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)

    def path(self, key: str) -> str:
        return self._path(key)

    def delete(self, key: str) -> None:
        try:
            os.remove(self._path(key))
        except FileNotFoundError:
            pass


def storage() -> LocalStorage:
    """The configured storage (the instance folder's uploads/)."""
    return LocalStorage(current_app.config["UPLOAD_FOLDER"])
