"""民情 from report to resolution: who holds an issue, where it was escalated, its public
answer and rating, its history, its photos.

- ``resident_issues``: ``level`` (grid / community / street: who handles it now) and the
  ``departments`` named for 协同处置; ``assignee_id`` (the grid worker it was routed to);
  ``ledger_code`` (an imported ledger's number for the row); ``route_candidates`` (a report
  near a grid edge: the grids it may belong to, kept until
  a person chooses; NULL once settled); ``started_at``, ``feedback`` / ``feedback_at`` (the
  published answer, 公示反馈), ``rating_comment`` / ``rated_at``, ``reopened``.
- ``issue_events``: every transition with who (user name and role) and when; the public
  status page shows these without the names.
- ``issue_photos``: photos, stored in the database so that a report and its photos commit
  (and are backed up) together; re-encoded on the way in, so no EXIF (GPS, device) is kept.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

UPGRADE = r"""
ALTER TABLE resident_issues
    ADD COLUMN level text NOT NULL DEFAULT 'grid'
        CHECK (level IN ('grid', 'community', 'street')),
    ADD COLUMN departments text[] NOT NULL DEFAULT '{}',
    ADD COLUMN assignee_id integer REFERENCES people(id) ON DELETE SET NULL,
    ADD COLUMN route_candidates jsonb,
    ADD COLUMN started_at timestamptz,
    ADD COLUMN feedback text,
    ADD COLUMN feedback_at timestamptz,
    ADD COLUMN rating_comment text,
    ADD COLUMN rated_at timestamptz,
    ADD COLUMN reopened smallint NOT NULL DEFAULT 0,
    ADD COLUMN ledger_code text;
-- an imported ledger's own numbering (or a code derived from the row): re-imports skip it;
-- numbers repeat across communities, and never serve as a receipt code (which is random)
CREATE UNIQUE INDEX resident_issues_ledger_uid ON resident_issues (community_code, ledger_code)
    WHERE ledger_code IS NOT NULL;
CREATE INDEX resident_issues_open_due_idx ON resident_issues (due_at)
    WHERE status IN ('received', 'assigned', 'in_progress', 'escalated');
CREATE INDEX resident_issues_unrouted_idx ON resident_issues (id)
    WHERE route_candidates IS NOT NULL;

CREATE TABLE issue_events (
    id          bigserial PRIMARY KEY,
    issue_id    integer NOT NULL REFERENCES resident_issues(id) ON DELETE CASCADE,
    at          timestamptz NOT NULL DEFAULT now(),
    actor       text NOT NULL,
    actor_role  text,
    action      text NOT NULL,
    from_status text,
    to_status   text NOT NULL,
    note        text,
    detail      jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX issue_events_issue_idx ON issue_events (issue_id, at);

CREATE TABLE issue_photos (
    id          serial PRIMARY KEY,
    issue_id    integer NOT NULL REFERENCES resident_issues(id) ON DELETE CASCADE,
    media_type  text NOT NULL CHECK (media_type IN ('image/jpeg', 'image/png', 'image/webp')),
    width       integer NOT NULL CHECK (width > 0),
    height      integer NOT NULL CHECK (height > 0),
    data        bytea NOT NULL,
    sha256      text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX issue_photos_issue_idx ON issue_photos (issue_id);
"""

DOWNGRADE = r"""
DROP TABLE IF EXISTS issue_photos, issue_events;
DROP INDEX IF EXISTS resident_issues_open_due_idx, resident_issues_unrouted_idx;
ALTER TABLE resident_issues
    DROP COLUMN level, DROP COLUMN departments, DROP COLUMN assignee_id,
    DROP COLUMN route_candidates, DROP COLUMN started_at, DROP COLUMN feedback,
    DROP COLUMN feedback_at, DROP COLUMN rating_comment, DROP COLUMN rated_at,
    DROP COLUMN reopened, DROP COLUMN ledger_code;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
