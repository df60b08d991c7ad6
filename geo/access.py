"""Who may do what, where (DESIGN §6). One table, used by every endpoint.

- Actions are ``read`` and ``write`` on a resource; ``None`` stands for an anonymous client.
- Scope: a user's scope is an area or grid code; an object's scope key is the code of the
  grid it belongs to, or of its community (or street/district) when it has no grid. An object
  is in scope when its key starts with the user's scope. Admins have no scope: everywhere.
- Personal data (names, phones, home units, party status, reporters) reaches only
  PERSONAL_ROLES, and only inside their scope.
"""

from __future__ import annotations

from geo.auth import User
from geo.errors import Forbidden, NotFound, Unauthorized

PERSONAL_ROLES = frozenset({"admin", "street_leader", "community_worker", "grid_worker"})
STAFF = frozenset({"admin", "planner", "street_leader", "community_worker", "grid_worker",
                   "analyst"})
ANYONE = STAFF | {None}
COMMUNITY_STAFF = frozenset({"admin", "street_leader", "community_worker"})

PERMISSIONS: dict[str, dict[str, frozenset[str | None]]] = {
    "people": {"read": PERSONAL_ROLES, "write": PERSONAL_ROLES},
    "roles": {"read": PERSONAL_ROLES, "write": PERSONAL_ROLES},
    # 民情: created by intake, moved by the workflow's steps; deleting one (it would leave the
    # supervision figures) is for admins only
    "issues": {"read": STAFF, "write": PERSONAL_ROLES, "delete": frozenset({"admin"}),
               # the queue: receipt codes, texts and exact places of open issues
               "handle": PERSONAL_ROLES},
    "buildings": {"read": ANYONE,
                  "write": frozenset({"admin", "planner", "community_worker", "grid_worker"})},
    "facilities": {"read": ANYONE,
                   "write": frozenset({"admin", "planner", "street_leader", "community_worker"})},
    "party_orgs": {"read": ANYONE,
                   "write": frozenset({"admin", "street_leader", "community_worker"})},
    "audit": {"read": frozenset({"admin"}), "write": frozenset()},
    # grid drafts and generations (boundaries, no personal data): planners redraw them
    "plans": {"read": STAFF, "write": frozenset({"admin", "planner"})},
    "allowed_gaps": {"read": STAFF, "write": frozenset({"admin", "planner"})},
    # indicators: counts only (people's counts suppressed for roles that need it)
    "coverage": {"read": STAFF, "write": frozenset()},
    "heatmap": {"read": STAFF, "write": frozenset()},
    # the 15-minute service circle: walking times, coverage, isochrones, siting proposals
    "circle": {"read": STAFF, "write": frozenset()},
    # 共建共治: units, their registrations, posts, projects and alliances are public records
    # of organisations; who claimed what, duty records and duty posts name party members
    **{key: {"read": ANYONE, "write": COMMUNITY_STAFF}
       for key in ("units", "unit_registrations", "service_posts", "projects", "honours",
                   "alliances", "alliance_members")},
    "claims": {"read": STAFF, "write": COMMUNITY_STAFF},
    "duty_records": {"read": PERSONAL_ROLES, "write": COMMUNITY_STAFF},
    "duty_posts": {"read": PERSONAL_ROLES, "write": PERSONAL_ROLES},
}


def role_of(user: User | None) -> str | None:
    return None if user is None else user.role


def require(user: User | None, resource: str, action: str) -> None:
    allowed = PERMISSIONS[resource][action]
    if role_of(user) in allowed:
        return
    if user is None:
        raise Unauthorized(f"{action} {resource}: sign in first (bearer token or X-API-Key)")
    raise Forbidden(f"{action} {resource}: a {user.role} may not do this")


def sees_personal(user: User | None) -> bool:
    return role_of(user) in PERSONAL_ROLES


def scope_prefix(user: User | None) -> str | None:
    """The code prefix that limits what ``user`` sees of scoped data; None means no limit."""
    if user is None or user.role == "admin":
        return None
    return user.scope or ""


def in_scope(user: User | None, key: str | None) -> bool:
    prefix = scope_prefix(user)
    if prefix is None:
        return True
    return key is not None and key.startswith(prefix)


def narrowed(user: User | None, within: str | None) -> str:
    """The narrower of an asked area code prefix and ``user``'s scope ("" for everywhere);
    404 when the two do not meet."""
    scope = scope_prefix(user) or ""
    asked = within or ""
    if asked.startswith(scope):
        return asked
    if scope.startswith(asked):
        return scope
    raise NotFound(f"within: {within} is outside your scope ({scope})")
