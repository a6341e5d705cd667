"""version_marks: what a registry says of a version it holds (npm deprecate, PEP 592 yank);
packages.generation: a counter of changes to what registries show of a package, for view caches

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("packages") as batch:
        batch.add_column(sa.Column("generation", sa.BigInteger(), server_default="0", nullable=False))
    op.create_table(
        "version_marks",
        sa.Column("artifact_id", sa.Integer(), nullable=False),
        sa.Column("registry", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["artifact_id"], ["artifacts.id"], name=op.f("fk_version_marks_artifact_id_artifacts")),
        sa.PrimaryKeyConstraint("artifact_id", "registry", "kind", name=op.f("pk_version_marks")),
    )
    op.create_index("ix_version_marks_registry", "version_marks", ["registry"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_version_marks_registry", table_name="version_marks")
    op.drop_table("version_marks")
    with op.batch_alter_table("packages") as batch:
        batch.drop_column("generation")
