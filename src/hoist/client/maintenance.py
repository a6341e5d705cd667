"""Client methods for retention, the trash and restores, mixed into ``HoistClient``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx


class MaintenanceMethods:
    if TYPE_CHECKING:

        def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response: ...

        def _json(self, method: str, path: str, **kwargs: Any) -> Any: ...

    def jobs(self, limit: int = 50) -> dict[str, Any]:
        """The job queue: counts by status and the jobs that failed for good."""
        result: dict[str, Any] = self._json("GET", "/jobs", params={"limit": limit})
        return result

    def retention_plan(self, registry: str | None = None) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._json("GET", "/retention/plan", params=_only(registry=registry))
        return result

    def retention_apply(self, registry: str | None = None) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._json("POST", "/retention/apply", json={"registry": registry})
        return result

    def trash(self, registry: str | None = None, state: str | None = None) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._json("GET", "/trash", params=_only(registry=registry, state=state))
        return result

    def restore(self, item: int | str, registry: str | None = None) -> dict[str, Any]:
        """A trash item by id, or ``NAME@VERSION`` back into ``registry``."""
        if isinstance(item, int) or str(item).isdigit():
            result: dict[str, Any] = self._json("POST", f"/trash/{int(item)}/restore")
        else:
            result = self._json("POST", "/restores", json={"ref": item, "registry": registry})
        return result

    def delete(self, ref: str, *, registry: str | None = None, reason: str | None = None) -> dict[str, Any]:
        """``NAME@VERSION`` out of ``registry`` into its trash (the trash item)."""
        result: dict[str, Any] = self._json("POST", "/deletions", json={"ref": ref, "registry": registry, "reason": reason})
        return result

    def collect_garbage(self, *, dry_run: bool = False) -> dict[str, Any]:
        result: dict[str, Any] = self._json("POST", "/gc", json={"dry_run": dry_run})
        return result

    def drill(self, environment: str, package: str | None = None) -> dict[str, Any]:
        result: dict[str, Any] = self._json("POST", "/drills", json={"environment": environment, "package": package})
        return result

    def maintain(self, *, drill: bool = True) -> dict[str, Any]:
        result: dict[str, Any] = self._json("POST", "/maintenance", json={"drill": drill}, timeout=None)
        return result

    def fsck(self, *, quarantine: bool = False) -> dict[str, Any]:
        result: dict[str, Any] = self._json("POST", "/fsck", json={"quarantine": quarantine}, timeout=None)
        return result

    def purge_trash(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._json("POST", "/trash/purge")
        return result


def _only(**params: str | None) -> dict[str, str]:
    return {k: v for k, v in params.items() if v is not None}
