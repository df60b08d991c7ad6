"""Who is calling: a bearer token (OAuth2 password flow) or an analyst's X-API-Key."""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer
from psycopg import AsyncConnection

from api.deps import ConnDep, SettingsDep
from geo.auth import User, key_matches, key_prefix, read_token, secret_key
from geo.db.queries.users import user_by_key_prefix
from geo.errors import Unauthorized

bearer = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)
api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False)


async def current_user(
    request: Request, conn: ConnDep, settings: SettingsDep,
    token: Annotated[str | None, Depends(bearer)],
    api_key: Annotated[str | None, Depends(api_key_header)],
) -> User | None:
    if token:
        user = await still_valid(conn, read_token(token, secret_key(settings)))
    elif api_key:
        user = await user_from_key(conn, api_key)
    else:
        user = None
    request.state.user = user
    return user


async def still_valid(conn: AsyncConnection, user: User) -> User:
    """A token's user, unless disabled or its tokens were revoked after this one was issued
    (JWT times are whole seconds: a token of the revocation's own second is refused too)."""
    cur = await conn.execute("SELECT active, extract(epoch FROM tokens_valid_after) FROM users "
                             "WHERE id = %s", (user.id,))
    row = await cur.fetchone()
    if row is None or not row[0]:
        raise Unauthorized("this user is disabled")
    if row[1] is not None and user.issued < math.ceil(float(row[1])):
        raise Unauthorized("the access token was revoked; sign in again")
    return user


async def caller(request: Request) -> User | None:
    """The user of a request, for routes that take their own pooled connection while they
    work (tiles): the same credentials as ``current_user``, but an API key is checked on a
    connection given back at once, so a request never holds two."""
    token, api_key = await bearer(request), await api_key_header(request)
    if token:
        user = read_token(token, secret_key(request.app.state.settings))
        async with request.app.state.pool.connection() as conn:
            return await still_valid(conn, user)
    if api_key:
        async with request.app.state.pool.connection() as conn:
            return await user_from_key(conn, api_key)
    return None


async def user_from_key(conn: AsyncConnection, key: str) -> User:
    row = await user_by_key_prefix(conn, key_prefix(key))
    if row is None or row["revoked_at"] is not None or not key_matches(key, row["key_hash"]):
        raise Unauthorized("the API key is not valid (unknown or revoked)")
    if not row["active"]:
        raise Unauthorized("this user is disabled")
    return User(row["id"], row["username"], row["role"], row["scope_code"])


async def signed_in(user: Annotated[User | None, Depends(current_user)]) -> User:
    if user is None:
        raise Unauthorized("sign in first (bearer token or X-API-Key)")
    return user


def client_of(request: Request) -> str | None:
    return request.client.host if request.client else None


UserDep = Annotated[User | None, Depends(current_user)]
SignedInDep = Annotated[User, Depends(signed_in)]
