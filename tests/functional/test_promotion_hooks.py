"""Promotion hooks: what a format makes travel with a promotion runs inside the promotion's unit of
work, sees the source, the target and the artifact, and adds to the audit event's ``carried``."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from hoist.app import Services, build_app
from hoist.client import HoistClient
from hoist.config import Settings
from hoist.domain import errors as e
from hoist.domain.models import Artifact
from hoist.domain.ports import MetadataSession
from hoist.services.promotion import PromotionHook, PromotionService
from hoist.services.statements import SignedStatements
from hoist.services.summaries import PromotionSummaries
from tests.asgi import SyncASGITransport
from tests.functional.helpers import push

Seen = list[tuple[str, str, str, bool]]


@pytest.fixture
def promote_with(
    settings: Settings, services: Services, token_for: Callable[..., str]
) -> Iterator[Callable[[PromotionHook], HoistClient]]:
    """A client acting as a release manager (promote only) of an app whose promotions run ``hook``
    alone (instead of /v2's carry, which tests/functional/test_oci_promotion.py covers)."""
    opened: list[httpx.Client] = []

    def make(hook: PromotionHook) -> HoistClient:
        summaries = PromotionSummaries(SignedStatements(services.signer, services.blobs), settings.policy)
        promotions = PromotionService(
            services.metadata, settings.policy, summaries, services.vulnerabilities, services.guard, hooks=[hook]
        )
        app = build_app(settings, dataclasses.replace(services, promotions=promotions))
        token = token_for("rita", grants=["role:release"])
        http = httpx.Client(
            transport=SyncASGITransport(app), base_url="http://testserver", headers={"Authorization": f"Bearer {token}"}
        )
        opened.append(http)
        return HoistClient("http://testserver", http=http)

    yield make
    for http in opened:
        http.close()


def _ready(client_as: Callable[..., HoistClient], tmp_path: Path) -> None:
    developer = client_as("dana", ["role:developer"])
    push(developer, tmp_path, version="1.4.0")
    developer.attest("shop-api@1.4.0", type="unit-tests", result="pass")


def test_a_hook_sees_the_promotion_inside_its_unit_of_work_and_counts_in_carried(
    client_as: Callable[..., HoistClient], tmp_path: Path, promote_with: Callable[[PromotionHook], HoistClient]
) -> None:
    _ready(client_as, tmp_path)
    seen: Seen = []

    def hook(s: MetadataSession, source: str, target: str, artifact: Artifact, *, actor: str, now: datetime) -> int:
        placed = {p.registry for p in s.placements.of(artifact.id)}  # the placement this unit of work added
        seen.append((source, target, actor, target in placed))
        return 2

    releaser = promote_with(hook)
    releaser.promote("shop-api@1.4.0", to="prod")
    assert seen == [("dev", "prod", "rita", True)]
    event = releaser.history("shop-api@1.4.0")[-1]
    assert event["action"] == "artifact:promote" and event["details"]["carried"] == 2


def test_a_hook_that_refuses_undoes_the_whole_promotion(
    client_as: Callable[..., HoistClient], tmp_path: Path, promote_with: Callable[[PromotionHook], HoistClient]
) -> None:
    _ready(client_as, tmp_path)

    def hook(s: MetadataSession, source: str, target: str, artifact: Artifact, *, actor: str, now: datetime) -> int:
        raise e.Denied(f"{artifact.ref} cannot travel to {target}")

    releaser = promote_with(hook)
    with pytest.raises(e.Denied):
        releaser.promote("shop-api@1.4.0", to="prod")
    placements = {p["registry"] for p in releaser.artifact("shop-api@1.4.0")["placements"]}
    assert placements == {"dev"}
    assert releaser.history("shop-api@1.4.0")[-1]["action"] != "artifact:promote"
