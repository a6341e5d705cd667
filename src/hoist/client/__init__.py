"""A Python client for Hoist's /api/v1, used by the CLI and usable from scripts.

Errors the server reports come back as the same typed domain errors the server raised
(``PromotionRefused``, ``VersionExists``, ...), rebuilt from the stable error code.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from hoist import DEFAULT_URL
from hoist.client.access import AccessMethods
from hoist.client.errors import ServerUnreachable, raise_for_error
from hoist.client.maintenance import MaintenanceMethods
from hoist.client.transfers import Progress, download_blob, upload_file
from hoist.domain.errors import HoistError
from hoist.domain.events import CHECKPOINT_MARK, HEAD_MARK, ChainMark
from hoist.domain.models import Pipeline

__all__ = ["DEFAULT_URL", "HoistClient", "ServerUnreachable", "raise_for_error"]


class HoistClient(AccessMethods, MaintenanceMethods):
    def __init__(
        self,
        url: str = DEFAULT_URL,
        *,
        token: str | None = None,
        pipeline: Pipeline | None = None,
        http: httpx.Client | None = None,
        timeout: float = 60.0,
    ) -> None:
        headers = {"User-Agent": "hoist-cli"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if pipeline:
            headers["X-Hoist-Pipeline"] = json.dumps(pipeline.as_dict(), separators=(",", ":"))
        self.url = url.rstrip("/")
        self._me: str | None = None
        self._http = http or httpx.Client(base_url=self.url, timeout=httpx.Timeout(timeout, connect=10.0))
        self._http.headers.update(headers)
        self._api = "/api/v1"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> HoistClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- plumbing ---------------------------------------------------------------------------------

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.request(method, self._api + path, **kwargs)
        except httpx.TransportError as exc:
            raise ServerUnreachable(f"cannot reach Hoist at {self.url}: {exc}") from exc
        raise_for_error(response)
        return response

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        return self.request(method, path, **kwargs).json()

    @property
    def http(self) -> httpx.Client:
        return self._http

    def whoami(self) -> dict[str, Any]:
        """Who the server says this client is, and what it may do."""
        me: dict[str, Any] = self._json("GET", "/whoami")
        self._me = me["name"]
        return me

    @property
    def actor(self) -> str:
        """The name the server knows this client by (asked once)."""
        return self._me or self.whoami()["name"]

    # -- artifacts --------------------------------------------------------------------------------

    def upload(self, path: Path, progress: Progress | None = None) -> dict[str, Any]:
        """Stream one file into a blob, hashing on the way; returns ``{digest, size}``."""
        return upload_file(self, path, progress)

    def publish(
        self,
        *,
        package: str,
        version: str,
        files: list[dict[str, Any]],
        registry: str = "dev",
        build: int | str | None = None,
        max_env: str | None = None,
    ) -> dict[str, Any]:
        body = {
            "registry": registry,
            "package": package,
            "version": version,
            "files": files,
            "build": build,
            "max_env": max_env,
        }
        result: dict[str, Any] = self._json("POST", "/artifacts", json=body)
        return result

    def keys(self) -> dict[str, Any]:
        """The server's public key and the keys it recognises (GET /api/v1/keys)."""
        result: dict[str, Any] = self._json("GET", "/keys")
        return result

    # -- supply chain -----------------------------------------------------------------------------

    def attach_sbom(self, ref: str, document: bytes) -> dict[str, Any]:
        result: dict[str, Any] = self._json(
            "PUT", f"/artifacts/{_quote_ref(ref)}/sbom", content=document, headers={"Content-Type": "application/json"}
        )
        return result

    def sbom(self, ref: str, *, format: str = "cyclonedx") -> bytes:
        return self.request("GET", f"/artifacts/{_quote_ref(ref)}/sbom", params={"format": format}).content

    def affected(self, query: str, *, range: str | None = None) -> dict[str, Any]:
        params = {"q": query, **({"range": range} if range else {})}
        result: dict[str, Any] = self._json("GET", "/affected", params=params)
        return result

    def import_advisories(self, document: bytes, *, filename: str) -> dict[str, Any]:
        result: dict[str, Any] = self._json(
            "POST", "/advisories", params={"filename": filename}, content=document, timeout=600
        )
        return result

    def vulnerabilities(self, ref: str) -> dict[str, Any]:
        result: dict[str, Any] = self._json("GET", f"/artifacts/{_quote_ref(ref)}/vulnerabilities")
        return result

    def artifacts(self, *, package: str | None = None, registry: str | None = None) -> list[dict[str, Any]]:
        params = {k: v for k, v in {"package": package, "registry": registry}.items() if v}
        result: list[dict[str, Any]] = self._json("GET", "/artifacts", params=params)
        return result

    def artifact(self, ref: str, *, registry: str | None = None) -> dict[str, Any]:
        params = {"registry": registry} if registry else {}
        result: dict[str, Any] = self._json("GET", f"/artifacts/{_quote_ref(ref)}", params=params)
        return result

    def download(self, digest: str, size: int, dest: Path, progress: Progress | None = None) -> None:
        """Fetch a blob into ``dest``, verified against its digest and size before it is renamed into place."""
        download_blob(self, digest, size, dest, progress)

    # -- promotion and evidence -------------------------------------------------------------------

    def promote(self, ref: str, *, to: str, dry_run: bool = False, reason: str | None = None) -> dict[str, Any]:
        result: dict[str, Any] = self._json(
            "POST", "/promotions", json={"ref": ref, "to": to, "dry_run": dry_run, "reason": reason}
        )
        return result

    def mark(self, ref: str, kind: str, *, registry: str, message: str | None) -> dict[str, Any]:
        """Set a version's ``yanked`` (PEP 592) or ``deprecated`` mark in one registry."""
        result: dict[str, Any] = self._json(
            "PUT", f"/artifacts/{_quote_ref(ref)}/marks/{kind}", json={"registry": registry, "message": message}
        )
        return result

    def unmark(self, ref: str, kind: str, *, registry: str) -> dict[str, Any]:
        result: dict[str, Any] = self._json(
            "DELETE", f"/artifacts/{_quote_ref(ref)}/marks/{kind}", params={"registry": registry}
        )
        return result

    def attest(
        self,
        ref: str,
        *,
        type: str,
        result: str | None = None,
        junit: str | None = None,
        environment: str | None = None,
        envelope: bytes | None = None,
    ) -> dict[str, Any]:
        body = {"ref": ref, "type": type, "result": result, "junit": junit, "environment": environment}
        if envelope is not None:
            body["envelope"] = envelope.decode()
        out: dict[str, Any] = self._json("POST", "/attestations", json=body)
        return out

    def approve(
        self, ref: str, *, environment: str, comment: str | None = None, envelope: bytes | None = None
    ) -> dict[str, Any]:
        body = {"ref": ref, "environment": environment, "comment": comment}
        if envelope is not None:
            body["envelope"] = envelope.decode()
        result: dict[str, Any] = self._json("POST", "/approvals", json=body)
        return result

    # -- deployments ------------------------------------------------------------------------------

    def deploy(self, ref: str, *, environment: str, pending: bool = False, reason: str | None = None) -> dict[str, Any]:
        result: dict[str, Any] = self._json(
            "POST",
            "/deployments",
            json={"ref": ref, "environment": environment, "pending": pending, "reason": reason},
        )
        return result

    def finish(self, deployment_id: int, *, succeeded: bool, exit_code: int | None = None) -> dict[str, Any]:
        result: dict[str, Any] = self._json(
            "POST",
            f"/deployments/{deployment_id}/finish",
            json={"succeeded": succeeded, "exit_code": exit_code},
        )
        return result

    def rollback(
        self,
        package: str,
        *,
        environment: str,
        to: str | None = None,
        dry_run: bool = False,
        pending: bool = False,
        reason: str | None = None,
    ) -> dict[str, Any]:
        body = {
            "package": package,
            "environment": environment,
            "to": to,
            "dry_run": dry_run,
            "pending": pending,
            "reason": reason,
        }
        result: dict[str, Any] = self._json("POST", "/rollbacks", json=body)
        return result

    def status(self, environment: str | None = None) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._json(
            "GET", "/status", params={"environment": environment} if environment else {}
        )
        return result

    def environments(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._json("GET", "/environments")
        return result

    # -- audit ------------------------------------------------------------------------------------

    def history(self, ref: str) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._json("GET", "/history", params={"ref": ref})
        return result

    def audit_checkpoint(self) -> bytes:
        """A signed checkpoint of the audit chain's head (a DSSE envelope)."""
        return self.request("GET", "/audit/checkpoint").content

    def export_lines(self) -> Iterator[str]:
        """The audit chain as JSON Lines, streamed."""
        return self.audit_chain()[1]

    def audit_chain(self) -> tuple[list[ChainMark], Iterator[str]]:
        """The audit chain as JSON Lines, streamed, and the marks the server read before it (the
        recorded head, the latest signed checkpoint): the chain must pass through each."""
        try:
            request = self._http.build_request("GET", self._api + "/audit/export", params={"format": "jsonl"})
            response = self._http.send(request, stream=True)
        except httpx.TransportError as exc:
            raise ServerUnreachable(f"cannot reach Hoist at {self.url}: {exc}") from exc
        if response.status_code >= 400:
            response.read()
            response.close()
            raise_for_error(response)
        found = response.headers
        marks = [_mark(name, found[header]) for name, header in MARK_HEADERS.items() if header in found]

        def lines() -> Iterator[str]:
            try:
                yield from (line for line in response.iter_lines() if line)
            except httpx.TransportError as exc:
                raise ServerUnreachable(f"cannot reach Hoist at {self.url}: {exc}") from exc
            finally:
                response.close()

        return marks, lines()


MARK_HEADERS = {HEAD_MARK: "Hoist-Audit-Head", CHECKPOINT_MARK: "Hoist-Audit-Checkpoint"}


def _mark(name: str, value: str) -> ChainMark:
    seq, _, digest = value.partition(" ")
    if not seq.isdigit() or not digest:
        raise HoistError(f"the server sent a malformed audit mark {value!r} for {name}")
    return ChainMark(name, int(seq), digest)


def _quote_ref(ref: str) -> str:
    return quote(ref, safe="/@:")
