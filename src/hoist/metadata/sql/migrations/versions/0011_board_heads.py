"""placement_heads and deployment_heads: per package, the newest placement in each registry and the
deployment running in each environment, kept up to date, so the board reads a row per cell

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "placement_heads",
        sa.Column("package_id", sa.Integer(), nullable=False),
        sa.Column("registry", sa.String(length=64), nullable=False),
        sa.Column("placement_id", sa.Integer(), nullable=False),
        sa.Column("placed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["package_id"], ["packages.id"], name=op.f("fk_placement_heads_package_id_packages")),
        sa.ForeignKeyConstraint(
            ["placement_id"], ["placements.id"], name=op.f("fk_placement_heads_placement_id_placements")
        ),
        sa.PrimaryKeyConstraint("package_id", "registry", name=op.f("pk_placement_heads")),
    )
    op.create_table(
        "deployment_heads",
        sa.Column("package_id", sa.Integer(), nullable=False),
        sa.Column("environment", sa.String(length=64), nullable=False),
        sa.Column("deployment_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["package_id"], ["packages.id"], name=op.f("fk_deployment_heads_package_id_packages")),
        sa.ForeignKeyConstraint(
            ["deployment_id"], ["deployments.id"], name=op.f("fk_deployment_heads_deployment_id_deployments")
        ),
        sa.PrimaryKeyConstraint("package_id", "environment", name=op.f("pk_deployment_heads")),
    )
    # what existing placements and deployments make them: the same ranking the board did itself
    op.execute(
        """
        INSERT INTO placement_heads (package_id, registry, placement_id, placed_at)
        SELECT package_id, registry, id, placed_at FROM (
            SELECT artifacts.package_id AS package_id, placements.registry AS registry, placements.id AS id,
                   placements.placed_at AS placed_at,
                   row_number() OVER (PARTITION BY artifacts.package_id, placements.registry
                                      ORDER BY placements.placed_at DESC, placements.id DESC) AS n
            FROM placements JOIN artifacts ON artifacts.id = placements.artifact_id
        ) ranked WHERE n = 1
        """
    )
    op.execute(
        """
        INSERT INTO deployment_heads (package_id, environment, deployment_id)
        SELECT artifacts.package_id, deployments.environment, max(deployments.id)
        FROM deployments JOIN artifacts ON artifacts.id = deployments.artifact_id
        WHERE deployments.status = 'succeeded'
        GROUP BY artifacts.package_id, deployments.environment
        """
    )


def downgrade() -> None:
    op.drop_table("deployment_heads")
    op.drop_table("placement_heads")
