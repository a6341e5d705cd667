"""The server's signing key: configured, or made once in the data folder (0600) and shared by all
the server's worker processes."""

from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec

from hoist.signing import keys


class ServerSigner:
    def __init__(self, key: ec.EllipticCurvePrivateKey) -> None:
        self._key = key
        self.key_id = keys.key_id(key.public_key())
        self.public_pem = keys.public_pem(key)

    def sign(self, data: bytes) -> bytes:
        return keys.sign(self._key, data)

    @classmethod
    def load_or_create(cls, path: Path) -> ServerSigner:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            draft = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
            fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(keys.private_pem(keys.generate()))
            try:
                with contextlib.suppress(FileExistsError):  # another worker made it first: use theirs
                    os.link(draft, path)
            finally:
                draft.unlink()
        return cls(keys.load_private(path.read_bytes()))
