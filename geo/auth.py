"""Passwords, access tokens and API keys (no HTTP here; api/auth.py wires it to FastAPI).

- Passwords: argon2id (argon2-cffi). No default password ever ships; `gridgov user add`
  sets one.
- Access tokens: JWT (HS256) signed with the settings' secret, or with a random key generated
  once into ``<data_dir>/secret_key`` (mode 0600).
- API keys for analysts: ``gg_<prefix>_<secret>``; only a SHA-256 of the key is stored
  (keys are long random strings, so a slow hash adds nothing).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from geo.errors import InvalidInput, Unauthorized
from geo.settings import Settings

ROLES = ("admin", "planner", "street_leader", "community_worker", "grid_worker", "analyst")
_hasher = PasswordHasher()
ALGORITHM = "HS256"


@dataclass(frozen=True)
class User:
    id: int
    username: str
    role: str
    scope: str | None  # area or grid code prefix; None = everywhere (admin)
    issued: float = 0.0  # when its access token was issued (epoch seconds); 0: not a token


def hash_password(password: str) -> str:
    if len(password) < 10:
        raise InvalidInput("password: use at least 10 characters")
    return _hasher.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def check_role_and_scope(role: str, scope: str | None) -> None:
    if role not in ROLES:
        raise InvalidInput(f"role: {role!r} is not one of {', '.join(ROLES)}")
    if role != "admin" and not scope:
        raise InvalidInput(f"scope: a {role} needs a scope (an area or grid code)")
    if scope and (not scope.isdigit() or len(scope) not in (6, 9, 12, 15)):
        raise InvalidInput(f"scope: {scope!r} is not an area code (6/9/12 digits) or grid code (15)")


def secret_key(settings: Settings) -> str:
    """The token signing key; read (or made) once per process, not on every request."""
    return settings.secret_key or _key_file(Path(settings.data_dir) / "secret_key")


@lru_cache(maxsize=4)
def _key_file(path: Path) -> str:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def issue_token(user: User, key: str, minutes: int) -> tuple[str, int]:
    now = datetime.now(UTC)
    claims = {"sub": user.username, "uid": user.id, "role": user.role, "scope": user.scope,
              "iat": now, "exp": now + timedelta(minutes=minutes)}
    return jwt.encode(claims, key, algorithm=ALGORITHM), minutes * 60


def read_token(token: str, key: str) -> User:
    try:
        c = jwt.decode(token, key, algorithms=[ALGORITHM], options={"require": ["exp", "sub"]})
    except jwt.ExpiredSignatureError:
        raise Unauthorized("the access token has expired; ask for a new one") from None
    except jwt.InvalidTokenError:
        raise Unauthorized("the access token is not valid") from None
    return User(int(c["uid"]), str(c["sub"]), str(c["role"]), c.get("scope"),
                float(c.get("iat", 0)))


@dataclass(frozen=True)
class NewKey:
    key: str
    prefix: str
    digest: str


def new_api_key() -> NewKey:
    prefix = secrets.token_hex(4)
    key = f"gg_{prefix}_{secrets.token_urlsafe(32)}"
    return NewKey(key, prefix, key_digest(key))


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def key_prefix(key: str) -> str:
    parts = key.split("_")
    if len(parts) < 3 or parts[0] != "gg":
        raise Unauthorized("the API key is malformed")
    return parts[1]


def key_matches(key: str, digest: str) -> bool:
    return hmac.compare_digest(key_digest(key), digest)
