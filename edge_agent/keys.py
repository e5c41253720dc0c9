"""The facility's Ed25519 signing key: made once on first start, kept owner-only."""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)

log = logging.getLogger(__name__)

KEY_FILE = "agent_signing_key.pem"


def load_or_create(data_dir: Path) -> Ed25519PrivateKey:
    """The key in ``data_dir``, generated atomically (mode 0600) if there is none yet."""
    path = data_dir / KEY_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        pem = Ed25519PrivateKey.generate().private_bytes(
            Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()
        )
        # Written whole under a temporary name and linked into place: two agents starting
        # together end up with one key, and a crash never leaves half a key behind.
        fd, temp = tempfile.mkstemp(prefix=".signing_key.", dir=data_dir)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(pem)
                fh.flush()
                os.fsync(fh.fileno())
            try:
                os.link(temp, path)
                log.info("generated the facility signing key %s", path)
            except FileExistsError:
                pass
        finally:
            os.unlink(temp)
    key = load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} does not hold an Ed25519 private key")
    return key
