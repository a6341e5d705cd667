"""The web UI's "am I affected?": the component index as GET /api/v1/affected answers it (with the
logged-in user's read rights), where affected versions run now, the versions whose SBOM is still
pending; and the SBOM's state on the artifact page."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from markupsafe import escape

from hoist.client import HoistClient
from hoist.domain.jobs import WorkReport
from tests.functional.helpers import push
from tests.functional.test_sbom_and_vulnerabilities import cyclonedx, wheel
from tests.functional.web_helpers import Browser

LOG4J = "org.apache.logging.log4j"


@pytest.fixture
def config_text() -> str:
    return """
[registries.dev]
[registries.prod]
direct_push = false
promote_from = ["dev"]
[environments.dev]
registry = "dev"
[environments.prod]
registry = "prod"
[ceilings]
snapshot = "dev"
rc = "dev"
release = "prod"
"""


def test_affected_versions_where_they_run_and_what_is_still_pending(
    browser: Browser, client: HoistClient, tmp_path: Path
) -> None:
    push(client, tmp_path, version="1.0.0")
    push(client, tmp_path, version="1.1.0", content=b"other bytes")
    client.attach_sbom("shop-api@1.0.0", cyclonedx((LOG4J, "log4j-core", "2.14.1")))
    client.attach_sbom("shop-api@1.1.0", cyclonedx((LOG4J, "log4j-core", "2.17.1")))
    client.deploy("shop-api@1.0.0", environment="dev")
    path = wheel(tmp_path)  # its SBOM is made by a job that has not run
    client.publish(package="wheels", version="1.0.0", files=[{"name": path.name, **client.upload(path)}])
    web = browser("vera", ["read:dev"])

    assert web.get("/ui/affected").status_code == 200
    page = web.get("/ui/affected", params={"q": "log4j-core", "range": "<2.17.1"})
    assert page.status_code == 200, page.text
    api = client.affected("log4j-core", range="<2.17.1")
    assert [(r["environment"], r["version"]) for r in api["running"]] == [("dev", "1.0.0")]
    assert "<tr><td>dev</td><td>shop-api</td>" in page.text
    assert f"pkg:maven/{LOG4J}/log4j-core@2.14.1" in page.text and "2.17.1</code>" not in page.text
    assert "wheels@1.0.0" in api["pending"]  # the generic pushes' jobs are queued too: listed alike
    for ref in api["pending"]:
        assert f'">{ref}</a></li>' in page.text
    everything = web.get("/ui/affected", params={"q": "log4j-core"})
    assert "log4j-core@2.17.1</code>" in everything.text


def test_a_version_the_user_may_not_read_is_not_shown(browser: Browser, client: HoistClient, tmp_path: Path) -> None:
    push(client, tmp_path, version="1.0.0")
    client.attach_sbom("shop-api@1.0.0", cyclonedx((LOG4J, "log4j-core", "2.14.1")))
    web = browser("paula", ["read:prod"])
    page = web.get("/ui/affected", params={"q": "log4j-core"})
    assert page.status_code == 200 and "No version you may read contains a matching component." in page.text


def test_a_bad_range_is_refused_as_by_the_api_and_queries_are_escaped(browser: Browser) -> None:
    web = browser("vera", ["read:dev"])
    bad = web.get("/ui/affected", params={"q": "log4j-core", "range": "^2.0"})
    assert bad.status_code == 400 and "range" in bad.text
    markup = web.get("/ui/affected", params={"q": "<b>x</b>"})
    assert "<b>x</b>" not in markup.text and str(escape("<b>x</b>")) in markup.text


def test_the_artifact_page_shows_the_sbom_state(
    browser: Browser, client: HoistClient, tmp_path: Path, drain: Callable[[], WorkReport]
) -> None:
    path = wheel(tmp_path)
    client.publish(package="wheels", version="1.0.0", files=[{"name": path.name, **client.upload(path)}])
    web = browser("vera", ["read:dev"])
    assert '<dd class="sbom-pending">pending (being made' in web.get("/ui/artifacts/wheels@1.0.0").text
    assert drain().ran == 1
    assert '<dd class="sbom-present">present: <a' in web.get("/ui/artifacts/wheels@1.0.0").text
