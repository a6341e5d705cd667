"""The few OCI distribution calls the CLI makes itself (signing): blobs up, manifests in and out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hoist.client.errors import ServerUnreachable
from hoist.domain.digests import Digest
from hoist.domain.errors import BlobCorrupt, Denied, HoistError, InvalidInput, NotFound

if TYPE_CHECKING:
    import httpx

    from hoist.client import HoistClient

_CHUNK = 1024 * 1024
_CODES: dict[str, type[HoistError]] = {
    "DENIED": Denied,
    "NAME_UNKNOWN": NotFound,
    "MANIFEST_UNKNOWN": NotFound,
    "BLOB_UNKNOWN": NotFound,
    "BLOB_CORRUPT": BlobCorrupt,
    "MANIFEST_INVALID": InvalidInput,
    "DIGEST_INVALID": InvalidInput,
    "NAME_INVALID": InvalidInput,
}


@dataclass(frozen=True, slots=True)
class ManifestInfo:
    media_type: str
    digest: str
    size: int


def _call(client: HoistClient, method: str, path: str, **kwargs: object) -> httpx.Response:
    import httpx

    try:
        # blob GETs may be redirected to the server's sendfile blob server (or a presigned URL)
        response = client.http.request(method, path, follow_redirects=True, **kwargs)  # type: ignore[arg-type]
    except httpx.TransportError as exc:
        raise ServerUnreachable(f"cannot reach Hoist at {client.url}: {exc}") from exc
    _raise_for_error(response, path)
    return response


def _raise_for_error(response: httpx.Response, path: str) -> None:
    """An OCI error answer as a typed error; 404 is left to the caller (absent is often an answer)."""
    if response.status_code >= 400 and response.status_code != 404:
        try:
            error = response.json()["errors"][0]
            raise _CODES.get(error["code"], HoistError)(f"{error['code']}: {error['message']}")
        except (ValueError, KeyError, IndexError):
            # a HEAD's refusal has no body: its status still says what it is
            kind = Denied if response.status_code == 403 else HoistError
            raise kind(f"HTTP {response.status_code} from {path}: {response.text[:200]}") from None


def put_blob(client: HoistClient, repository: str, data: bytes) -> str:
    digest = str(Digest.of(data))
    if _call(client, "HEAD", f"/v2/{repository}/blobs/{digest}").status_code == 200:
        return digest
    done = _call(client, "POST", f"/v2/{repository}/blobs/uploads/", params={"digest": digest}, content=data)
    if done.status_code != 201:
        raise HoistError(f"uploading blob {digest} to {repository} failed: HTTP {done.status_code}")
    return digest


def head_manifest(client: HoistClient, repository: str, reference: str) -> ManifestInfo | None:
    response = _call(client, "HEAD", f"/v2/{repository}/manifests/{reference}")
    if response.status_code == 404:
        return None
    return ManifestInfo(
        response.headers["content-type"],
        response.headers["docker-content-digest"],
        int(response.headers["content-length"]),
    )


def get_manifest(client: HoistClient, repository: str, reference: str) -> bytes | None:
    response = _call(client, "GET", f"/v2/{repository}/manifests/{reference}")
    return None if response.status_code == 404 else response.content


def get_blob(client: HoistClient, repository: str, digest: str) -> bytes | None:
    """A blob, checked against its digest (None when the repository does not hold it)."""
    response = _call(client, "GET", f"/v2/{repository}/blobs/{digest}")
    if response.status_code == 404:
        return None
    if str(Digest.of(response.content, Digest.parse(digest).algorithm)) != digest:
        raise HoistError(f"blob {digest} from {repository} does not hash to its digest")
    return response.content


def hash_blob(
    client: HoistClient, repository: str, digest: Digest, progress: Callable[[int], None] | None = None
) -> tuple[Digest, int] | None:
    """Stream a blob through a hasher, keeping nothing: the digest and size of what arrived, or None
    when the repository does not hold it."""
    import httpx

    path = f"/v2/{repository}/blobs/{digest}"
    hasher, size = digest.hasher(), 0
    try:
        with client.http.stream("GET", path, follow_redirects=True, timeout=httpx.Timeout(60.0, connect=10.0)) as response:
            if response.status_code >= 400:
                response.read()
                _raise_for_error(response, path)
                return None
            for chunk in response.iter_raw(_CHUNK):
                hasher.update(chunk)
                size += len(chunk)
                if progress:
                    progress(len(chunk))
    except httpx.TransportError as exc:
        raise ServerUnreachable(f"cannot reach Hoist at {client.url}: {exc}") from exc
    return Digest(digest.algorithm, hasher.hexdigest()), size


def referrers(client: HoistClient, repository: str, digest: str) -> list[dict[str, Any]]:
    response = _call(client, "GET", f"/v2/{repository}/referrers/{digest}")
    if response.status_code == 404:
        return []
    found: list[dict[str, Any]] = response.json().get("manifests", [])
    return found


def put_manifest(client: HoistClient, repository: str, reference: str, raw: bytes, media_type: str) -> str:
    response = _call(
        client, "PUT", f"/v2/{repository}/manifests/{reference}", content=raw, headers={"Content-Type": media_type}
    )
    if response.status_code == 404:
        raise NotFound(f"repository {repository} is unknown")
    return response.headers["docker-content-digest"]
