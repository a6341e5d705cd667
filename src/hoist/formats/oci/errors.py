"""Domain errors as OCI clients expect them: ``{"errors": [{"code", "message", "detail"}]}`` with the
distribution-spec codes (end-of-spec error code table)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from hoist.domain import errors as e
from hoist.http.errors import range_headers
from hoist.http.identity import challenge

API_VERSION = {"Docker-Distribution-API-Version": "registry/2.0"}

# Most specific first: the first class an error is an instance of decides.
CODES: tuple[tuple[type[e.HoistError], int, str], ...] = (
    (e.TooManyAttempts, 429, "TOOMANYREQUESTS"),
    (e.Unauthenticated, 401, "UNAUTHORIZED"),
    (e.RepositoryNotFound, 404, "NAME_UNKNOWN"),
    (e.ManifestNotFound, 404, "MANIFEST_UNKNOWN"),
    (e.BlobNotFound, 404, "BLOB_UNKNOWN"),
    (e.UploadNotFound, 404, "BLOB_UPLOAD_UNKNOWN"),
    (e.ArtifactNotFound, 404, "MANIFEST_UNKNOWN"),
    (e.UnknownRegistry, 404, "NAME_UNKNOWN"),
    (e.NotFound, 404, "NAME_UNKNOWN"),
    (e.UploadOutOfOrder, 416, "BLOB_UPLOAD_INVALID"),
    # The spec's table has no code for a Range a blob GET cannot serve; distribution's registry
    # answers a bad range with RANGE_INVALID (416), so clients of both read the same code.
    (e.RangeNotSatisfiable, 416, "RANGE_INVALID"),
    (e.UploadTruncated, 400, "BLOB_UPLOAD_INVALID"),
    (e.DigestMismatch, 400, "DIGEST_INVALID"),
    (e.InvalidDigest, 400, "DIGEST_INVALID"),
    (e.ManifestBlobUnknown, 400, "MANIFEST_BLOB_UNKNOWN"),
    (e.InvalidManifest, 400, "MANIFEST_INVALID"),
    (e.InvalidTag, 400, "TAG_INVALID"),
    (e.InvalidName, 400, "NAME_INVALID"),
    (e.InvalidVersion, 400, "TAG_INVALID"),
    (e.InvalidInput, 400, "UNSUPPORTED"),
    (e.TooLarge, 413, "SIZE_INVALID"),
    (e.Refused, 403, "DENIED"),
    (e.ConcurrentUpdate, 409, "TOOMANYREQUESTS"),
    (e.Conflict, 409, "DENIED"),
    (e.BlobCorrupt, 500, "BLOB_CORRUPT"),  # not a spec code: clients show it, and retrying cannot help
    (e.IntegrityFailure, 500, "UNKNOWN"),
)


def oci_error(
    code: str, message: str, status: int, detail: dict[str, Any] | None = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    body = {"errors": [{"code": code, "message": message, "detail": detail or {}}]}
    return JSONResponse(body, status, headers={**API_VERSION, **(headers or {})})


def from_domain(error: e.HoistError, headers: dict[str, str] | None = None) -> JSONResponse:
    for cls, status, code in CODES:
        if isinstance(error, cls):
            return oci_error(code, error.message, status, error.details, headers)
    return oci_error("UNKNOWN", error.message, 500, error.details, headers)


async def handle(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, e.HoistError)
    headers = range_headers(exc)
    if isinstance(exc, e.TooManyAttempts):
        headers = {"Retry-After": str(exc.retry_after)}
    elif isinstance(exc, e.Unauthenticated):  # tell the client how to authenticate, and for which scope
        headers = {"WWW-Authenticate": challenge(request.scope)}
    response = from_domain(exc, headers)
    if request.method == "HEAD":  # HEAD responses carry no body
        headers = {k: v for k, v in response.headers.items() if k not in {"content-length", "content-type"}}
        return Response(status_code=response.status_code, headers=headers)
    return response
