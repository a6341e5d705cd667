"""SBOMs generated for container images: OS package databases, language packages, jars, whiteouts,
compression, and memory that stays bounded whatever the layer size. Layers are built here; the dpkg
database is this machine's own."""

from __future__ import annotations

import gzip
import io
import json
import shutil
import subprocess
import tarfile
import tracemalloc
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

import pytest
import zstandard
from packageurl import PackageURL

from hoist.domain.errors import InvalidInput
from hoist.domain.sbom import SbomDocument
from hoist.sbom.generate import generate_for_image
from tests.conftest import missing

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
DIGEST = "sha256:" + "ab" * 32
GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
TAR = "application/vnd.oci.image.layer.v1.tar"
DEBIAN_12 = b'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n'

Entry = bytes | tuple[str, str]  # file content, or ("symlink", target) / ("dir", "")


def layer(entries: dict[str, Entry], *, gz: bool = True) -> tuple[str, Callable[[], IO[bytes]]]:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz" if gz else "w") as t:
        for name, content in entries.items():
            info = tarfile.TarInfo(name)
            if isinstance(content, tuple):
                info.type = tarfile.SYMTYPE if content[0] == "symlink" else tarfile.DIRTYPE
                info.linkname = content[1]
                t.addfile(info)
            else:
                info.size = len(content)
                t.addfile(info, io.BytesIO(content))
    data = out.getvalue()
    return (GZIP if gz else TAR, lambda: io.BytesIO(data))


def image(*layers: tuple[str, Callable[[], IO[bytes]]], digest: str = DIGEST) -> SbomDocument:
    return generate_for_image(list(layers), name="team/app", version="1.0", digest=digest, now=NOW)


def purls(doc: SbomDocument) -> set[str]:
    return {c.purl for c in doc.components if c.purl}


def metadata(name: str, version: str) -> bytes:
    return f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n\n".encode()


def package_json(name: str, version: str) -> bytes:
    return json.dumps({"name": name, "version": version}).encode()


def test_real_dpkg_database_of_this_machine() -> None:
    status = Path("/var/lib/dpkg/status")
    if not status.is_file() or not shutil.which("dpkg-query"):
        missing("not a dpkg-based machine: /var/lib/dpkg/status and dpkg-query are needed")
    os_release = Path("/etc/os-release").read_bytes()
    fields = dict(line.split("=", 1) for line in os_release.decode().splitlines() if "=" in line)
    distro_id, version_id = fields["ID"].strip('"'), fields.get("VERSION_ID", "").strip('"')
    out = subprocess.run(
        ["dpkg-query", "-W", "-f", "${Package}\t${Version}\t${Architecture}\t${db:Status-Status}\n"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    installed = [
        line.split("\t") for line in out.splitlines() if line.split("\t")[3] not in ("config-files", "not-installed")
    ]

    doc = image(layer({"var/lib/dpkg/status": status.read_bytes(), "etc/os-release": os_release}))
    bash_version, bash_arch = next((v, a) for name, v, a, _ in installed if name == "bash")
    bash = next(c for c in doc.components if c.name == "bash")
    parsed = PackageURL.from_string(bash.purl or "")
    assert (parsed.type, parsed.namespace, parsed.name, parsed.version) == ("deb", distro_id, "bash", bash_version)
    assert parsed.qualifiers["arch"] == bash_arch  # type: ignore[index]
    assert parsed.qualifiers["distro"] == f"{distro_id}-{version_id}"  # type: ignore[index]
    assert bash.key == f"{distro_id}/bash"
    found = {(c.name, c.version) for c in doc.components}
    assert found == {(name, version) for name, version, _, _ in installed}


def test_distroless_status_d_and_source_packages() -> None:
    libc = b"Package: libc6\nVersion: 2.36-9+deb12u4\nArchitecture: amd64\nSource: glibc\n"
    tzdata = b"Package: tzdata\nVersion: 2024a-0+deb12u1\nArchitecture: all\n"
    doc = image(
        layer(
            {
                "var/lib/dpkg/status.d/libc6": libc,
                "var/lib/dpkg/status.d/libc6.md5sums": b"abc  lib/x\n",
                "var/lib/dpkg/status.d/tzdata": tzdata,
                "usr/lib/os-release": DEBIAN_12,
                "etc/os-release": ("symlink", "../usr/lib/os-release"),
            }
        )
    )
    assert purls(doc) == {
        "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12&upstream=glibc",
        "pkg:deb/debian/tzdata@2024a-0%2Bdeb12u1?arch=all&distro=debian-12",
    }


def test_dpkg_skips_removed_packages_and_reads_ubuntu() -> None:
    status = (
        b"Package: openssl\nStatus: install ok installed\nArchitecture: amd64\nVersion: 3.0.2-0ubuntu1.15\n"
        b"Source: openssl (3.0.2-0ubuntu1)\nDescription: x\n more\n .\n\n"
        b"Package: old-thing\nStatus: deinstall ok config-files\nArchitecture: amd64\nVersion: 1.0\n\n"
        b"Package: never\nStatus: purge ok not-installed\nArchitecture: amd64\n"
    )
    ubuntu = b'NAME="Ubuntu"\nID=ubuntu\nID_LIKE=debian\nVERSION_ID="22.04"\n'
    doc = image(layer({"var/lib/dpkg/status": status, "etc/os-release": ubuntu}))
    assert purls(doc) == {
        "pkg:deb/ubuntu/openssl@3.0.2-0ubuntu1.15?arch=amd64&distro=ubuntu-22.04&upstream=openssl%403.0.2-0ubuntu1"
    }


def test_alpine_apk_database() -> None:
    installed = (
        b"C:Q1abc=\nP:musl\nV:1.2.4-r2\nA:x86_64\nL:MIT\no:musl\n\n"
        b"C:Q1def=\nP:libcrypto3\nV:3.1.4-r5\nA:x86_64\no:openssl\n\n"
    )
    alpine = b'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.18.4\n'
    doc = image(layer({"lib/apk/db/installed": installed, "etc/os-release": alpine}, gz=False))
    assert purls(doc) == {
        "pkg:apk/alpine/musl@1.2.4-r2?arch=x86_64&distro=alpine-3.18.4",
        "pkg:apk/alpine/libcrypto3@3.1.4-r5?arch=x86_64&distro=alpine-3.18.4&upstream=openssl",
    }


def test_python_and_node_packages_in_an_image() -> None:
    site = "usr/local/lib/python3.12/site-packages"
    doc = image(
        layer(
            {
                f"{site}/Django-5.0.1.dist-info/METADATA": metadata("Django", "5.0.1"),
                f"{site}/pip/_vendor/rich-13.7.dist-info/METADATA": metadata("rich", "13.7"),
                f"{site}/legacy.egg-info/PKG-INFO": metadata("Legacy_Pkg", "0.9"),
                "usr/lib/python3/dist-packages/six-1.16.0.egg-info": metadata("six", "1.16.0"),
                "app/node_modules/express/package.json": package_json("express", "4.18.2"),
                "app/node_modules/@types/node/package.json": package_json("@types/node", "20.11.5"),
                "app/node_modules/express/node_modules/debug/package.json": package_json("debug", "2.6.9"),
                "app/node_modules/express/lib/package.json": b'{"type": "commonjs"}',
                "app/node_modules/express/test/fixtures/package.json": package_json("fixture", "1.0.0"),
                "app/node_modules/.package-lock.json": b'{"packages": {"node_modules/ghost": {"version": "1"}}}',
                "app/package-lock.json": b'{"packages": {"node_modules/ghost": {"version": "1"}}}',
            }
        )
    )
    assert purls(doc) == {
        "pkg:pypi/django@5.0.1",
        "pkg:pypi/rich@13.7",
        "pkg:pypi/legacy-pkg@0.9",
        "pkg:pypi/six@1.16.0",
        "pkg:npm/express@4.18.2",
        "pkg:npm/%40types/node@20.11.5",
        "pkg:npm/debug@2.6.9",
    }


def jar(group: str, artifact: str, version: str, nested: dict[str, bytes] | None = None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr(
            f"META-INF/maven/{group}/{artifact}/pom.properties",
            f"groupId={group}\nartifactId={artifact}\nversion={version}\n",
        )
        for name, data in (nested or {}).items():
            z.writestr(name, data)
    return out.getvalue()


def test_java_archives_in_layers() -> None:
    boot = jar(
        "com.acme",
        "service",
        "2.0",
        {"BOOT-INF/lib/log4j-core-2.14.1.jar": jar("org.apache.logging.log4j", "log4j-core", "2.14.1")},
    )
    doc = image(layer({"app/service.jar": boot, "opt/lib/guava.jar": jar("com.google.guava", "guava", "33.0.0-jre")}))
    assert purls(doc) == {
        "pkg:maven/com.acme/service@2.0",
        "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
        "pkg:maven/com.google.guava/guava@33.0.0-jre",
    }


def test_whiteouts_remove_what_later_layers_delete() -> None:
    site = "usr/lib/python3/site-packages"
    base = layer(
        {
            "var/lib/dpkg/status": b"Package: curl\nStatus: install ok installed\nVersion: 7.88\nArchitecture: amd64\n",
            "etc/os-release": DEBIAN_12,
            f"{site}/keep-1.0.dist-info/METADATA": metadata("keep", "1.0"),
            f"{site}/gone-1.0.dist-info/METADATA": metadata("gone", "1.0"),
            "app/node_modules/left-pad/package.json": package_json("left-pad", "1.3.0"),
            "app/node_modules/lodash/package.json": package_json("lodash", "4.17.20"),
            "opt/tool/lib/a.jar": jar("org.a", "a", "1"),
            "srv/data/node_modules/x/package.json": package_json("x", "1.0.0"),
        }
    )
    upper = layer(
        {
            f"{site}/.wh.gone-1.0.dist-info": b"",  # deletes the whole dist-info folder
            "app/node_modules/.wh..wh..opq": b"",  # opaque: nothing from below survives in node_modules
            "app/node_modules/lodash/package.json": package_json("lodash", "4.17.21"),  # ...but this layer's own files do
            "var/lib/dpkg/status": b"Package: curl\nStatus: install ok installed\nVersion: 7.88.1-10\nArchitecture: amd64\n",
            "opt/tool": ("symlink", "/elsewhere"),  # a link where a folder was: the folder is gone
            "srv/.wh.data": b"",
            f"{site}/.wh.not-there": b"",
        },
        gz=False,
    )
    doc = image(base, upper)
    assert purls(doc) == {
        "pkg:deb/debian/curl@7.88.1-10?arch=amd64&distro=debian-12",
        "pkg:pypi/keep@1.0",
        "pkg:npm/lodash@4.17.21",
    }


def test_whiteout_applies_to_lower_layers_only_and_os_release_can_be_deleted() -> None:
    site = "usr/lib/python3/site-packages"
    lower = layer(
        {"etc/os-release": DEBIAN_12, "var/lib/dpkg/status": b"Package: a\nStatus: install ok installed\nVersion: 1\n"}
    )
    same = layer(
        {
            f"{site}/.wh.new-1.dist-info": b"",
            f"{site}/new-1.dist-info/METADATA": metadata("new", "1"),
            "etc/.wh.os-release": b"",
        }
    )
    doc = image(lower, same)
    assert purls(doc) == {"pkg:deb/debian/a@1", "pkg:pypi/new@1"}  # no distro qualifier without os-release


def test_root_opaque_whiteout_hides_everything_below() -> None:
    lower = layer({"app/node_modules/a/package.json": package_json("a", "1.0.0")})
    upper = layer({".wh..wh..opq": b"", "app/node_modules/b/package.json": package_json("b", "2.0.0")})
    assert purls(image(lower, upper)) == {"pkg:npm/b@2.0.0"}


def test_docker_layers_with_dot_slash_names() -> None:
    media_type, opener = layer(
        {"./app/node_modules/a/package.json": package_json("a", "1.0.0"), "./etc/os-release": DEBIAN_12}
    )
    assert media_type == GZIP
    _, upper = layer({"./app/node_modules/.wh.a": b"", "./app/node_modules/b/package.json": package_json("b", "2.0.0")})
    docker = "application/vnd.docker.image.rootfs.diff.tar.gzip"
    assert purls(image((docker, opener), (docker, upper))) == {"pkg:npm/b@2.0.0"}


def test_metadata_describes_the_image() -> None:
    doc = image(layer({"app/node_modules/a/package.json": package_json("a", "1.0.0")}))
    document = json.loads(doc.raw)
    subject = document["metadata"]["component"]
    assert subject["type"] == "container"
    assert subject["bom-ref"] == DIGEST
    assert subject["hashes"] == [{"alg": "SHA-256", "content": "ab" * 32}]
    assert subject["purl"] == f"pkg:oci/app@{DIGEST}"
    assert document["metadata"]["timestamp"] == "2026-03-01T12:00:00+00:00"
    assert document["dependencies"][-1] == {"ref": DIGEST, "dependsOn": ["pkg:npm/a@1.0.0"]}


def test_same_layers_give_the_same_bytes() -> None:
    entries: dict[str, Entry] = {"var/lib/dpkg/status": b"Package: a\nStatus: install ok installed\nVersion: 1\n"}
    assert image(layer(entries)).raw == image(layer(entries, gz=False)).raw


def test_non_filesystem_layers_are_skipped() -> None:
    doc = image(("application/vnd.example.config+json", lambda: io.BytesIO(b"{}")), layer({}))
    assert doc.components == ()


def test_unreadable_layers_are_refused_naming_the_layer() -> None:
    good = layer({})
    with pytest.raises(InvalidInput, match=r"layer 1 \(application/vnd.oci.image.layer.v1.tar\+gzip\)"):
        image(good, (GZIP, lambda: io.BytesIO(b"\x1f\x8b\x08\x00garbage")))
    truncated = gzip.compress(b"x" * 600)[:20]
    with pytest.raises(InvalidInput, match="layer 0"):
        image((GZIP, lambda: io.BytesIO(truncated)))
    with pytest.raises(InvalidInput, match="digest"):
        image(good, digest="sha256:short")


def test_zstd_layers_are_read() -> None:
    status = b"Package: zlib1g\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1:1.2.13.dfsg-1\n\n"
    plain = io.BytesIO()
    with tarfile.open(fileobj=plain, mode="w") as t:
        info = tarfile.TarInfo("var/lib/dpkg/status")
        info.size = len(status)
        t.addfile(info, io.BytesIO(status))
    compressed = zstandard.ZstdCompressor().compress(plain.getvalue())
    doc = image(("application/vnd.oci.image.layer.v1.tar+zstd", lambda: io.BytesIO(compressed)))
    assert any(p.startswith("pkg:deb/") and "zlib1g@1:1.2.13.dfsg-1" in p for p in purls(doc))


def test_a_damaged_zstd_layer_is_named_in_a_clear_error() -> None:
    zstd_frame = b"\x28\xb5\x2f\xfd" + b"\x00" * 20
    label = r"layer 1 \(application/vnd.oci.image.layer.v1.tar\+zstd\)"  # the second layer: counted from 0
    with pytest.raises(InvalidInput, match=label + " is not a readable tar"):
        image(layer({}), ("application/vnd.oci.image.layer.v1.tar+zstd", lambda: io.BytesIO(zstd_frame)))


class Zeros(io.RawIOBase):
    def __init__(self, size: int) -> None:
        self.left = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        count = min(len(buffer), self.left)
        buffer[:count] = bytes(count)
        self.left -= count
        return count


def test_memory_stays_bounded_for_a_huge_highly_compressible_layer(tmp_path: Path) -> None:
    """256 MiB of zeros compress to ~250 KiB: a decompression that is not bounded would hold it all."""
    size = 256 * 1024 * 1024
    path = tmp_path / "layer.tar.gz"
    with gzip.open(path, "wb", compresslevel=1) as raw, tarfile.open(fileobj=raw, mode="w|") as t:
        info = tarfile.TarInfo("var/cache/zeros.img")
        info.size = size
        t.addfile(info, io.BufferedReader(Zeros(size)))
        status = b"Package: a\nStatus: install ok installed\nVersion: 1\n"
        info = tarfile.TarInfo("var/lib/dpkg/status")
        info.size = len(status)
        t.addfile(info, io.BytesIO(status))
    tracemalloc.start()
    try:
        doc = image((GZIP, lambda: path.open("rb")))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert purls(doc) == {"pkg:deb/debian/a@1"}
    assert peak < 16 * 1024 * 1024, f"peak {peak / 2**20:.1f} MiB"
