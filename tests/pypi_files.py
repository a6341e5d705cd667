"""Small, valid distribution files made in memory: a pure-Python wheel and an sdist, with the core
metadata a build backend writes (the names and versions inside can be made to disagree on purpose)."""

from __future__ import annotations

import base64
import hashlib
import io
import tarfile
import zipfile


def metadata(name: str, version: str, requires_python: str | None = ">=3.8") -> bytes:
    lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    if requires_python is not None:
        lines.append(f"Requires-Python: {requires_python}")
    return ("\n".join(lines) + "\n\nA tiny package.\n").encode()


def wheel(name: str, version: str, *, inside: bytes | None = None, module: str = "tiny") -> bytes:
    """A wheel named ``{name}-{version}`` whose METADATA is ``inside`` (default: agreeing)."""
    dist_info = f"{name.replace('-', '_')}-{version}.dist-info"
    files = {
        f"{module}/__init__.py": b'def hello():\n    return "hello"\n',
        f"{dist_info}/METADATA": inside if inside is not None else metadata(name, version),
        f"{dist_info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = "".join(f"{path},sha256={_record_hash(data)},{len(data)}\n" for path, data in files.items())
    files[f"{dist_info}/RECORD"] = (record + f"{dist_info}/RECORD,,\n").encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for path, data in files.items():
            z.writestr(zipfile.ZipInfo(path, date_time=(2024, 1, 1, 0, 0, 0)), data)
    return out.getvalue()


def sdist(name: str, version: str, *, inside: bytes | None = None) -> bytes:
    top = f"{name.replace('-', '_')}-{version}"
    files = {
        f"{top}/PKG-INFO": inside if inside is not None else metadata(name, version),
        f"{top}/pyproject.toml": f'[project]\nname = "{name}"\nversion = "{version}"\n'.encode(),
    }
    return tar_gz(files)


def tar_gz(files: dict[str, bytes]) -> bytes:
    """A gzipped tar of regular files (an sdist, an image layer)."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as t:
        for path, data in files.items():
            info = tarfile.TarInfo(path)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    return out.getvalue()


def _record_hash(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def twine_form(
    content: bytes, filename: str, name: str, version: str, *, filetype: str | None = None, **extra: str
) -> tuple[dict[str, str], dict[str, tuple[str, bytes, str]]]:
    """The fields and the file twine sends for one distribution (httpx's ``data=``, ``files=``)."""
    data = {
        ":action": "file_upload",
        "protocol_version": "1",
        "metadata_version": "2.1",
        "name": name,
        "version": version,
        "filetype": filetype or ("bdist_wheel" if filename.endswith(".whl") else "sdist"),
        "pyversion": "py3" if filename.endswith(".whl") else "source",
        "sha256_digest": hashlib.sha256(content).hexdigest(),
        "md5_digest": hashlib.md5(content).hexdigest(),
        "blake2_256_digest": hashlib.blake2b(content, digest_size=32).hexdigest(),
        **extra,
    }
    return data, {"content": (filename, content, "application/octet-stream")}
