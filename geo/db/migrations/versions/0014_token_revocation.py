"""Access tokens can be revoked: a user's tokens issued before ``tokens_valid_after`` are
refused (sign-out, or an admin revoking a lost phone's session); a disabled user's too.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06
"""

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE users ADD COLUMN tokens_valid_after timestamptz")


def downgrade() -> None:
    op.execute("ALTER TABLE users DROP COLUMN tokens_valid_after")
