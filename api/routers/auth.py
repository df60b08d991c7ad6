"""``/api/v1/auth``: tokens (OAuth2 password flow), who am I, API keys."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request, Response
from fastapi.security import OAuth2PasswordRequestForm

from api.auth import SignedInDep, client_of
from api.deps import ConnDep, SettingsDep
from geo.auth import User, issue_token, new_api_key, secret_key, verify_password
from geo.db.audit import record_async
from geo.db.queries.users import add_key, revoke_key, user_with_hash
from geo.errors import NotFound, Unauthorized

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/token", summary="Exchange username and password for a bearer token")
async def token(request: Request, conn: ConnDep, settings: SettingsDep,
                form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> dict[str, Any]:
    row = await user_with_hash(conn, form.username)
    if row is None or not row["active"] or not verify_password(row["password_hash"],
                                                               form.password):
        await record_async(conn, form.username[:60], "login.failed", "users", None, {},
                           client_of(request))
        raise Unauthorized("wrong username or password")
    user = User(row["id"], row["username"], row["role"], row["scope_code"])
    access_token, seconds = issue_token(user, secret_key(settings), settings.token_minutes)
    await record_async(conn, user.username, "login", "users", str(user.id), {},
                       client_of(request))
    return {"access_token": access_token, "token_type": "bearer", "expires_in": seconds}


@router.post("/logout", status_code=204, summary="Sign out: every access token of yours "
             "issued so far stops working (API keys are revoked one by one)")
async def logout(request: Request, conn: ConnDep, user: SignedInDep) -> Response:
    await conn.execute("UPDATE users SET tokens_valid_after = now() WHERE id = %s", (user.id,))
    await record_async(conn, user.username, "logout", "users", str(user.id), {},
                       client_of(request))
    return Response(status_code=204)


@router.get("/me", summary="The signed-in user")
async def me(user: SignedInDep) -> dict[str, Any]:
    return {"username": user.username, "role": user.role, "scope": user.scope}


@router.post("/api-keys", status_code=201, summary="Create an API key (shown once)")
async def create_api_key(request: Request, conn: ConnDep, user: SignedInDep,
                         name: Annotated[str, Body(embed=True, max_length=60)] = "") -> dict[str, Any]:
    key = new_api_key()
    async with conn.transaction():
        await add_key(conn, user, key, name)
        await record_async(conn, user.username, "api_key.create", "api_keys", key.prefix,
                           {"name": name}, client_of(request))
    return {"key": key.key, "prefix": key.prefix, "name": name,
            "note": "store this key now: it is not shown again"}


@router.delete("/api-keys/{prefix}", status_code=204, summary="Revoke one of your API keys")
async def delete_api_key(request: Request, conn: ConnDep, user: SignedInDep,
                         prefix: str) -> None:
    async with conn.transaction():
        if not await revoke_key(conn, user, prefix):
            raise NotFound(f"API key {prefix} does not exist or is not yours")
        await record_async(conn, user.username, "api_key.revoke", "api_keys", prefix, {},
                           client_of(request))
