"""``/api/v1/issues``: 民情 from report to resolution. Residents report (a photo or three) and
follow their issue by its receipt code; staff take reports from the hotline and the mailbox,
move issues through the status flow, and read the queue and the supervision figures; each
community's resolved issues are published, anonymised. (Reading and correcting one issue is
the CRUD router's ``/api/v1/issues/{id}``.)"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Path, Query, Request, UploadFile
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from api.auth import SignedInDep, UserDep, client_of
from api.deps import ConnDep, SettingsDep, WithinDep
from geo.access import in_scope, require, sees_personal
from geo.auth import User
from geo.db.audit import record_async
from geo.db.changes import Changes
from geo.db.queries import issues as q
from geo.db.queries.issue_views import events
from geo.errors import InvalidInput, NotFound
from geo.issues import handling, views
from geo.issues.intake import CHANNELS, Report, take
from geo.issues.limits import KIND_NAMES, KINDS, Calendar
from geo.issues.photos import Photo, checked
from geo.issues.workflow import ACTIONS, STATUS_NAMES
from geo.settings import Settings

router = APIRouter(prefix="/issues", tags=["issues"])
RECEIPT = Annotated[str, Path(pattern=r"^MQ[0-9A-Z-]{6,24}$", description="the receipt code")]


class StaffReport(BaseModel):
    model_config = ConfigDict(extra="forbid")
    category: str = Field(max_length=40)
    description: str = Field(max_length=2000)
    channel: Literal["resident_page", "grid_worker", "hotline", "mailbox"] = "hotline"
    kind: Literal["immediate", "time_limited", "committed", "remedial",
                  "suggestion"] = "time_limited"
    geometry: dict[str, Any] | None = Field(None, description="GeoJSON point")
    crs: str | None = Field(None, description="wgs84 | cgcs2000 | gcj02 | bd09")
    building_id: int | None = Field(None, ge=1)
    reporter_name: str | None = Field(None, max_length=60)
    reporter_phone: str | None = Field(None, max_length=20)


class StepBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    action: str = Field(description=", ".join(ACTIONS))
    note: str | None = Field(None, max_length=2000)
    grid: str | None = Field(None, pattern=r"^\d{15}$", description="assign / reassign")
    to: Literal["community", "street"] | None = Field(None, description="escalate")
    departments: list[str] = Field(default_factory=list, description="escalate: 协同处置")
    feedback: str | None = Field(None, max_length=1000, description="publish: the public answer")


class Rating(BaseModel):
    model_config = ConfigDict(extra="forbid")
    satisfaction: int = Field(ge=1, le=5)
    comment: str | None = Field(None, max_length=500)


def _json(body: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(jsonable_encoder(body), status_code=status)


def _wrote(request: Request) -> None:
    changes: Changes = request.app.state.changes
    changes.wrote("resident_issues")


async def _photos(files: list[UploadFile], settings: Settings) -> list[Photo]:
    if len(files) > settings.issue_photos_max:
        raise InvalidInput(f"photos: at most {settings.issue_photos_max} per issue")
    out = []
    for n, f in enumerate(files, 1):
        raw = await f.read(settings.issue_photo_max_kb * 1024 + 1)
        out.append(checked(raw, f"photos[{n}] ({f.filename})", settings.issue_photo_max_kb))
    return out


async def _report(request: Request, conn: ConnDep, settings: Settings, user: User | None,
                  report: Report) -> JSONResponse:
    actor = user.username if user else "resident"
    async with conn.transaction():
        out = await take(conn, settings, report, actor, user.role if user else None)
        scope = await q.scope_of(conn, out["id"])
        await record_async(conn, actor, "create", "issues", str(out["id"]),
                           {"channel": report.channel, "personal": bool(report.reporter_name
                                                                        or report.reporter_phone)},
                           client_of(request))
    _wrote(request)
    out["status_url"] = f"/report?code={out['receipt_code']}"
    out.pop("grid_id")
    if user is None or not in_scope(user, scope):
        out.pop("candidates")
        out.pop("id")
    return _json(out, 201)


@router.get("/categories", summary="What a report may say: categories, kinds and their time "
            "limits, channels, photo limits")
async def categories(settings: SettingsDep) -> JSONResponse:
    return _json({"categories": settings.issue_categories,
                  "kinds": [{"code": k, "name": KIND_NAMES[k],
                             "working_days": settings.issue_limit_days.get(k)} for k in KINDS],
                  "channels": list(CHANNELS), "statuses": STATUS_NAMES,
                  "photos_max": settings.issue_photos_max, "timezone": settings.timezone,
                  "photo_max_kb": settings.issue_photo_max_kb})


@router.post("/report", status_code=201, summary="A resident reports an issue (no sign-in; "
             "multipart form with up to a few photos); the answer holds the receipt code")
async def report(request: Request, conn: ConnDep, settings: SettingsDep, user: UserDep,
                 category: Annotated[str, Form(max_length=40)],
                 description: Annotated[str, Form(max_length=2000)],
                 lon: Annotated[float | None, Form(ge=-180, le=180)] = None,
                 lat: Annotated[float | None, Form(ge=-90, le=90)] = None,
                 crs: Annotated[str | None, Form()] = None,
                 building_id: Annotated[int | None, Form(ge=1)] = None,
                 reporter_name: Annotated[str | None, Form(max_length=60)] = None,
                 reporter_phone: Annotated[str | None, Form(max_length=20)] = None,
                 photos: Annotated[list[UploadFile] | None, File()] = None) -> JSONResponse:
    if (lon is None) != (lat is None):
        raise InvalidInput("lon, lat: give both, or a building_id")
    geometry = {"type": "Point", "coordinates": [lon, lat]} if lon is not None else None
    found = await _photos(photos or [], settings)
    return await _report(request, conn, settings, user, Report(
        category, description, "resident_page", "time_limited", geometry, crs, building_id,
        reporter_name, reporter_phone, found))


@router.post("", status_code=201, summary="Staff take a report (hotline, mailbox, a grid "
             "worker's round): routed to its grid and worker, with a deadline")
async def create(request: Request, conn: ConnDep, settings: SettingsDep, user: SignedInDep,
                 body: StaffReport) -> JSONResponse:
    require(user, "issues", "write")
    return await _report(request, conn, settings, user, Report(**body.model_dump()))


@router.get("/receipt/{code}", summary="The reporter's status page: where the issue stands, "
            "its deadline, the steps taken (by role, never by name), the public answer")
async def receipt(conn: ConnDep, code: RECEIPT) -> JSONResponse:
    return _json(await views.receipt(conn, code))


@router.post("/receipt/{code}/rating", summary="The reporter rates how the issue was "
             "handled (1–5), once it is resolved")
async def rating(request: Request, conn: ConnDep, code: RECEIPT, body: Rating) -> JSONResponse:
    async with conn.transaction():
        out = await handling.rate(conn, code, body.satisfaction, body.comment, "reporter", None)
    _wrote(request)
    return _json(out)


@router.get("/board/{community}", summary="公示: a community's resolved issues and their "
            "published answers, anonymised")
async def board(conn: ConnDep, settings: SettingsDep,
                community: Annotated[str, Path(pattern=r"^\d{12}$")],
                days: Annotated[int, Query(ge=1, le=3660)] = 365,
                limit: Annotated[int, Query(ge=1, le=500)] = 100) -> JSONResponse:
    return _json(await views.board(conn, Calendar.of(settings), community, days, limit))


@router.get("/queue", summary="Open issues within your scope, soonest deadline first, with "
            "the actions you may take (GeoJSON)")
async def queue(conn: ConnDep, user: SignedInDep, within: WithinDep = None,
                status: Annotated[str | None, Query(description="comma-separated")] = None,
                limit: Annotated[int, Query(ge=1, le=5000)] = 500) -> JSONResponse:
    require(user, "issues", "handle")
    statuses = [s for s in (status or "").split(",") if s]
    return _json(await views.queue(conn, user, within, statuses, limit))


@router.get("/stats", summary="Supervision: per grid, community or street, counts by status, "
            "overdue, share resolved within the limit, median time to resolve, satisfaction")
async def stats(conn: ConnDep, settings: SettingsDep, user: SignedInDep,
                within: WithinDep = None,
                by: Annotated[str, Query()] = "community",
                from_: Annotated[date | None, Query(alias="from")] = None,
                to: Annotated[date | None, Query()] = None) -> JSONResponse:
    require(user, "issues", "read")
    now, calendar = datetime.now(UTC), Calendar.of(settings)
    # days in local time (China's, by default): from its midnight to the midnight after `to`
    since = calendar.midnight(from_) if from_ else now - timedelta(days=365)
    until = calendar.midnight(to + timedelta(days=1)) if to else now + timedelta(seconds=1)
    return _json(await views.stats(conn, user, within, by, since, until, now))


async def _in_scope(conn: ConnDep, user: User, issue_id: int) -> None:
    require(user, "issues", "read")
    found = await q.scope_of(conn, issue_id)
    if found is None or not in_scope(user, found):
        raise NotFound(f"issue {issue_id}: no such issue in your scope")


@router.post("/{issue_id}/actions", summary="Move an issue on: assign, reassign, start, "
             "escalate, resolve, publish, close, reopen (by the roles the flow allows)")
async def act(request: Request, conn: ConnDep, settings: SettingsDep, user: SignedInDep,
              issue_id: Annotated[int, Path(ge=1)], body: StepBody) -> JSONResponse:
    async with conn.transaction():
        out = await handling.act(conn, user, Calendar.of(settings), issue_id,
                                 handling.Step(**body.model_dump()))
    _wrote(request)
    return _json(out)


@router.get("/{issue_id}/events", summary="The history of an issue: every step and when; who "
            "took it and the notes for the roles that may read personal data (audited)")
async def history(request: Request, conn: ConnDep, user: SignedInDep,
                  issue_id: Annotated[int, Path(ge=1)]) -> JSONResponse:
    await _in_scope(conn, user, issue_id)
    personal = sees_personal(user)  # notes may name or quote the reporter
    if personal:
        await record_async(conn, user.username, "read", "issue_events", str(issue_id), {},
                           client_of(request))
    return _json(await events(conn, issue_id, staff=personal))


@router.post("/{issue_id}/photos", status_code=201, summary="Add photos to an issue (staff)")
async def add_photos(request: Request, conn: ConnDep, settings: SettingsDep, user: SignedInDep,
                     issue_id: Annotated[int, Path(ge=1)],
                     photos: Annotated[list[UploadFile], File()]) -> JSONResponse:
    require(user, "issues", "write")
    await _in_scope(conn, user, issue_id)
    found = await _photos(photos, settings)
    async with conn.transaction():
        have = await handling.add_photos(conn, user, issue_id, found, settings.issue_photos_max)
        await record_async(conn, user.username, "update", "issues", str(issue_id),
                           {"photos_added": len(found)}, client_of(request))
    _wrote(request)
    return _json({"id": issue_id, "photos": have}, 201)


@router.get("/{issue_id}/photos/{n}", summary="One photo of an issue (staff within scope)")
async def photo(request: Request, conn: ConnDep, user: SignedInDep,
                issue_id: Annotated[int, Path(ge=1)], n: Annotated[int, Path(ge=1)]) -> Response:
    await _in_scope(conn, user, issue_id)
    found = await q.photo(conn, issue_id, n)
    if found is None:
        raise NotFound(f"photos/{n}: issue {issue_id} has no photo {n}")
    await record_async(conn, user.username, "read", "issue_photos", f"{issue_id}/{n}", {},
                       client_of(request))
    return Response(found[1], media_type=found[0],
                    headers={"Cache-Control": "private, max-age=300"})
