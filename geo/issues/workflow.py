"""The status flow of an issue and who may move it (民情受理 → 限期办理 → 公示反馈 → 跟踪监督).

received → assigned → in progress → resolved → feedback published → closed, plus escalate to
the community or the street (协同处置, with named departments), reopen and reassign. Each
action names the statuses it starts from, the status it leads to, and the roles that may take
it; whoever handles an issue depends on the level it sits at (its grid, its community, its
street). The user must also have the issue inside their scope (checked by the caller).
"""

from __future__ import annotations

from dataclasses import dataclass

from geo.auth import User
from geo.errors import Conflict, Forbidden, InvalidInput

LEVELS = ("grid", "community", "street")
MANAGERS = frozenset({"admin", "street_leader", "community_worker"})
HANDLERS = {"grid": MANAGERS | {"grid_worker"}, "community": MANAGERS,
            "street": frozenset({"admin", "street_leader"})}
# who may hand an issue up to a level
ESCALATORS = {"community": frozenset({"admin", "street_leader", "community_worker",
                                      "grid_worker"}),
              "street": frozenset({"admin", "street_leader", "community_worker"})}
STATUS_NAMES = {"received": "已受理", "assigned": "已分派", "in_progress": "办理中",
                "escalated": "已上报协同", "resolved": "已办结", "feedback_published": "已公示反馈",
                "closed": "已关闭"}


@dataclass(frozen=True)
class Action:
    name: str
    label: str
    sources: tuple[str, ...]
    target: str
    roles: frozenset[str] | None  # None: the handlers of the level
    needs_note: bool = False


ACTIONS = {a.name: a for a in (
    Action("assign", "分派", ("received",), "assigned", MANAGERS),
    Action("reassign", "改派", ("assigned", "in_progress", "escalated"), "assigned", MANAGERS,
           needs_note=True),
    Action("start", "开始办理", ("assigned", "escalated"), "in_progress", None),
    Action("escalate", "上报协同", ("assigned", "in_progress"), "escalated", None,
           needs_note=True),
    Action("resolve", "办结", ("in_progress",), "resolved", None, needs_note=True),
    Action("publish", "公示反馈", ("resolved",), "feedback_published", MANAGERS),
    Action("close", "关闭", ("feedback_published",), "closed", MANAGERS),
    Action("reopen", "重新办理", ("resolved", "feedback_published", "closed"), "in_progress",
           MANAGERS, needs_note=True),
)}


def allowed_roles(action: Action, level: str, escalate_to: str | None = None) -> frozenset[str]:
    """An action's roles, among those who handle the issue's level: once an issue sits with
    the street, a community worker no longer reassigns, answers, closes or reopens it."""
    if action.name == "escalate":
        return ESCALATORS.get(escalate_to or "", frozenset())
    return HANDLERS[level] if action.roles is None else action.roles & HANDLERS[level]


def check(user: User, action_name: str, status: str, level: str, note: str | None = None,
          escalate_to: str | None = None) -> Action:
    """The action, when ``user`` may take it on an issue in ``status`` at ``level``;
    otherwise the reason: 400 for an unknown action or missing input, 409 when the status
    does not allow it, 403 when the role may not."""
    action = ACTIONS.get(action_name)
    if action is None:
        raise InvalidInput(f"action: {action_name!r} is not one of {', '.join(ACTIONS)}")
    if action.needs_note and not (note or "").strip():
        raise InvalidInput(f"note: {action.name} ({action.label}) needs a note saying why or what "
                           "was done")
    if action.name == "escalate":
        if escalate_to not in LEVELS[1:]:
            raise InvalidInput("to: escalate to 'community' or 'street'")
        if LEVELS.index(escalate_to) <= LEVELS.index(level):
            raise Conflict(f"to: the issue already sits at the {level} level; escalate to a "
                           "higher one")
    if status not in action.sources:
        raise Conflict(f"action: {action.name} ({action.label}) applies to an issue that is "
                       f"{' or '.join(action.sources)}; this one is {status}")
    if user.role not in allowed_roles(action, level, escalate_to):
        raise Forbidden(f"action: a {user.role} may not {action.name} an issue at the "
                        f"{escalate_to or level} level")
    return action


def available(user: User, status: str, level: str) -> list[str]:
    """The actions ``user`` may take now (for the dashboard's buttons)."""
    out = []
    for a in ACTIONS.values():
        if status not in a.sources:
            continue
        if a.name == "escalate":
            ups = [lv for lv in LEVELS if LEVELS.index(lv) > LEVELS.index(level)]
            if any(user.role in ESCALATORS[lv] for lv in ups):
                out.append(a.name)
        elif user.role in allowed_roles(a, level):
            out.append(a.name)
    return out
