"""The local stack's generated secrets: one random password per database role or Kafka principal.

``orion stack up`` makes each password once and keeps it in
``$ORION_STACK_DIR/secrets/<service>/<name>`` (directory 0700, file 0600),
the layout a ``*_FILE`` variable or a Docker secret points at. A migration
must not hold a secret, so the roles ``warehouse_sql/0010_roles.sql``
creates get their LOGIN and password here. The server is sent a SCRAM
verifier, never the password itself, so not even a failed ``ALTER ROLE``
that PostgreSQL writes to its log can show it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from pathlib import Path

__all__ = ["all_secret_files", "read_or_create", "scram_verifier", "secrets_dir"]

SCRAM_ITERATIONS = 4096  # PostgreSQL's default scram_iterations


def secrets_dir(stack_dir: Path, service: str) -> Path:
    return stack_dir / "secrets" / service


def read_or_create(stack_dir: Path, service: str, name: str) -> str:
    """The secret ``service/name``, made (32 URL-safe random characters) on first use."""
    folder = secrets_dir(stack_dir, service)
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    path = folder / name
    if path.is_file():
        return path.read_text(encoding="utf-8").strip()
    value = secrets.token_urlsafe(24)
    tmp = path.with_suffix(".tmp")
    tmp.touch(mode=0o600)
    tmp.write_text(value + "\n", encoding="utf-8")
    tmp.replace(path)
    return value


def all_secret_files(stack_dir: Path) -> list[Path]:
    """Every secret file the stack generated (the secret-leak test greps for each)."""
    root = stack_dir / "secrets"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else []


def scram_verifier(password: str, *, salt: bytes | None = None) -> str:
    """``SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`` (RFC 5802, RFC 7677).

    What ``ALTER ROLE ... PASSWORD`` stores when given the clear text; the
    password must be ASCII (SASLprep leaves it unchanged), as generated here.
    """
    salt = salt or secrets.token_bytes(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode("ascii"), salt, SCRAM_ITERATIONS)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()

    def b64(b: bytes) -> str:
        return base64.b64encode(b).decode("ascii")

    return f"SCRAM-SHA-256${SCRAM_ITERATIONS}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"
