"""Steps the functional tests repeat: push a file, walk an artifact up to an environment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from hoist.client import HoistClient
from hoist.metadata.sql.store import SqlMetadataStore
from hoist.metadata.sql.tables import Base

# dev takes pushes, prod only promotions, and no gate stands between them: the tests of a protocol
# need the promotion, not its evidence
NO_GATES = """
[registries.dev]
direct_push = true
overwrite_snapshots = true

[registries.prod]
direct_push = false
promote_from = ["dev"]
seal_on_promotion = true
"""


def push(
    client: HoistClient,
    tmp_path: Path,
    package: str = "shop-api",
    version: str = "1.4.0",
    content: bytes = b"the build output",
    name: str = "app.tgz",
    **options: Any,
) -> dict[str, Any]:
    path = tmp_path / name
    path.write_bytes(content)
    blob = client.upload(path)
    return client.publish(package=package, version=version, files=[{"name": name, **blob}], **options)


def release_to(client: HoistClient, approver: HoistClient, ref: str, environment: str) -> None:
    """Take a pushed release through every gate of the default chain up to ``environment``."""
    client.attest(ref, type="unit-tests", result="pass")
    chain = ["dev", "uat", "preprod", "prod"]
    for env in chain[: chain.index(environment) + 1]:
        if env == "preprod":
            client.promote(ref, to="prod")
        if env == "prod":
            client.attest(ref, type="acceptance", result="pass", environment="preprod")
            approver.approve(ref, environment="prod")
        client.deploy(ref, environment=env)


# What the blob store's bytes are (stored when, corrupt, uploads on their way): an upload that comes
# before a refused push stores its bytes, as it always did; those rows describe the bytes, not the push.
BYTES_BOOKKEEPING = frozenset({"blob_states", "blob_uploads", "quarantined_blobs"})


def row_counts(metadata: SqlMetadataStore) -> dict[str, int]:
    """How many rows every table holds, but for the bytes' bookkeeping: bad input must leave these unchanged."""
    with metadata.engine.connect() as conn:
        return {
            name: conn.execute(select(func.count()).select_from(table)).scalar_one()
            for name, table in Base.metadata.tables.items()
            if name not in BYTES_BOOKKEEPING
        }


class Clock:
    """A clock the test moves: hand it to ``build_services`` to make time pass for retention,
    expiry and grace periods."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, days: float) -> None:
        self.now += timedelta(days=days)
