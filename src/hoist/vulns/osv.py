"""OSV records (https://ossf.github.io/osv-schema/, schema 1.x) read into :class:`Advisory`.

A record needs ``id`` and ``modified`` (RFC 3339); everything else is optional. Its severity is
the highest of:

1. the CVSS v3.x base scores of its ``severity[]`` vectors (top level and per ``affected[]``),
   computed here; the score is kept;
2. failing any v3 vector (CVSS v4 and v2 vectors are not scored), the qualitative labels the
   databases give: ``database_specific.severity`` (GHSA: CRITICAL, HIGH, MODERATE, LOW),
   ``affected[].ecosystem_specific.severity``, ``affected[].database_specific.severity`` and
   ``severity[]`` entries of type ``Ubuntu``; no score;
3. failing both, ``Severity.UNKNOWN`` with no score.

A *withdrawn* record is read with no ``affected[]`` entries, so that importing it replaces the
earlier version of the record and it matches nothing (its raw JSON still says ``withdrawn``).
"""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from hoist.domain.advisories import Advisory, Affected, Severity
from hoist.domain.errors import InvalidInput
from hoist.domain.jsonlimits import ADVISORY_BYTES, read_json
from hoist.vulns.cvss import cvss3_base_score
from hoist.vulns.ranges import EVENT_KINDS

MAX_RECORD_BYTES: Final = 32 * 1024 * 1024  # one zip member; real OSV records are a few KiB

_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
_DATE_EXAMPLE: Final = "e.g. 2021-12-10T00:40:56Z"

_LABELS: Final[dict[str, Severity]] = {
    "critical": Severity.CRITICAL,
    "high": Severity.HIGH,
    "important": Severity.HIGH,
    "moderate": Severity.MEDIUM,
    "medium": Severity.MEDIUM,
    "low": Severity.LOW,
    "negligible": Severity.LOW,
    "unimportant": Severity.LOW,
    "none": Severity.NONE,
}


def read_osv(data: bytes, *, source: str = "") -> Advisory:
    """One OSV record (a JSON object) as an Advisory; ``source`` names the file in error messages."""
    where = source or "OSV record"
    return _advisory(_load_json(data, where), data, where)


def read_osv_files(paths: Iterable[Path]) -> Iterator[Advisory]:
    """The records in each path: a ``.json`` file holding one record or a JSON array of records,
    or a ``.zip`` of such files (the layout of osv.dev's per-ecosystem ``all.zip``). Read lazily;
    the first bad file or member stops the iteration with InvalidInput naming it."""
    for path in paths:
        suffix = path.suffix.lower()
        if suffix == ".json":
            yield from _records(_read_file(path), str(path))
        elif suffix == ".zip":
            yield from _read_zip(path)
        else:
            raise InvalidInput(
                f"{path}: not an OSV file: give .json files (one record, or a JSON array of records) "
                "or .zip archives of them, such as osv.dev's <ecosystem>/all.zip"
            )


def severity_label(text: object) -> Severity | None:
    """A database's qualitative severity (``"MODERATE"``, ``"high"``, ...) or None if not one."""
    if not isinstance(text, str):
        return None
    return _LABELS.get(text.strip().lower())


def highest_severity(advisories: Iterable[Advisory]) -> Severity:
    """The worst severity among the advisories, in :class:`Severity` order (so UNKNOWN, which gates
    treat as the worst, wins over CRITICAL); NONE when there are none."""
    return max((a.severity for a in advisories), default=Severity.NONE)


# --- reading ---------------------------------------------------------------------------------


def _read_file(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"{path}: cannot read the file: {exc.strerror or exc}") from None


def _read_zip(path: Path) -> Iterator[Advisory]:
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise InvalidInput(
            f"{path}: not a zip archive; give a .zip of OSV .json records such as osv.dev's all.zip"
        ) from None
    except OSError as exc:
        raise InvalidInput(f"{path}: cannot read the file: {exc.strerror or exc}") from None
    with archive:
        for member in archive.infolist():
            if member.is_dir():
                continue
            where = f"{path}: member {member.filename}"
            if member.file_size > MAX_RECORD_BYTES:
                raise InvalidInput(
                    f"{where}: {member.file_size} bytes is over the {MAX_RECORD_BYTES}-byte limit for one OSV record"
                )
            try:
                data = archive.read(member)
            except (zipfile.BadZipFile, RuntimeError, OSError, ValueError) as exc:
                raise InvalidInput(f"{where}: cannot be extracted: {exc}") from None
            yield from _records(data, where)


def _records(data: bytes, where: str) -> Iterator[Advisory]:
    document = _load_json(data, where, allow_array=True)
    if isinstance(document, list):
        for index, item in enumerate(document):
            item_where = f"{where}[{index}]"
            if not isinstance(item, dict):
                raise InvalidInput(f"{item_where}: an OSV record is a JSON object, not {_kind(item)}")
            yield _advisory(item, json.dumps(item, ensure_ascii=False).encode(), item_where)
    else:
        yield _advisory(document, data, where)


def _load_json(data: bytes, where: str, *, allow_array: bool = False) -> Any:
    document = read_json(data, limit=ADVISORY_BYTES, where=where)
    if isinstance(document, dict) or (allow_array and isinstance(document, list)):
        return document
    wanted = "a JSON object (or an array of them)" if allow_array else "a JSON object"
    raise InvalidInput(f"{where}: an OSV record is {wanted}, not {_kind(document)}")


def _advisory(record: dict[str, Any], raw: bytes, where: str) -> Advisory:
    ident = record.get("id")
    if not isinstance(ident, str) or not ident.strip():
        raise InvalidInput(f"{where}: the OSV record has no 'id' (a string such as \"GHSA-jfh8-c2jp-5v3q\")")
    ident = ident.strip()
    where = f"{where}: {ident}"
    modified = _timestamp(record.get("modified"), "modified", where, required=True)
    assert modified is not None
    withdrawn = _timestamp(record.get("withdrawn"), "withdrawn", where, required=False)
    aliases = tuple(_strings(record.get("aliases"), "aliases", where))
    summary = _summary(record, where)
    affected_json = _list(record.get("affected"), "affected", where)
    affected: list[Affected] = []
    for index, entry in enumerate(affected_json):
        parsed = _affected(entry, f"{where}: affected[{index}]")
        if parsed is not None:
            affected.append(parsed)
    severity, score = _severity(record, affected_json, where)
    return Advisory(
        id=ident,
        aliases=aliases,
        summary=summary,
        severity=severity,
        score=score,
        modified=modified,
        affected=() if withdrawn is not None else tuple(affected),
        raw=raw,
    )


def _timestamp(value: object, field: str, where: str, *, required: bool) -> datetime | None:
    if value is None and not required:
        return None
    if value is None:
        raise InvalidInput(f"{where}: the OSV record has no {field!r} date-time (RFC 3339, {_DATE_EXAMPLE})")
    if not isinstance(value, str) or not _RFC3339.match(value.strip()):
        raise InvalidInput(
            f"{where}: {field!r} is not an RFC 3339 date-time: {value!r}; write it with a time zone, {_DATE_EXAMPLE}"
        )
    text = value.strip().upper().replace("Z", "+00:00")
    try:
        return datetime.fromisoformat(text).astimezone(UTC)
    except ValueError:
        raise InvalidInput(f"{where}: {field!r} is not a valid date-time: {value!r} ({_DATE_EXAMPLE})") from None


def _summary(record: Mapping[str, Any], where: str) -> str:
    summary = record.get("summary")
    if summary is not None and not isinstance(summary, str):
        raise InvalidInput(f"{where}: 'summary' must be a string, not {_kind(summary)}")
    if summary and summary.strip():
        return summary.strip()
    details = record.get("details")
    if details is not None and not isinstance(details, str):
        raise InvalidInput(f"{where}: 'details' must be a string, not {_kind(details)}")
    for line in (details or "").splitlines():
        if line.strip():
            return line.strip()
    return ""


def _affected(entry: object, where: str) -> Affected | None:
    if not isinstance(entry, dict):
        raise InvalidInput(f"{where}: must be a JSON object, not {_kind(entry)}")
    package = entry.get("package")
    ranges = tuple(_range(r, f"{where}: ranges[{i}]") for i, r in enumerate(_list(entry.get("ranges"), "ranges", where)))
    versions = tuple(_strings(entry.get("versions"), "versions", where))
    if package is None:
        return None  # allowed by the schema for GIT-only entries: nothing to match a component with
    if not isinstance(package, dict):
        raise InvalidInput(f"{where}: 'package' must be a JSON object, not {_kind(package)}")
    ecosystem, name, purl = package.get("ecosystem"), package.get("name"), package.get("purl")
    if not isinstance(ecosystem, str) or not ecosystem.strip():
        raise InvalidInput(f'{where}: \'package.ecosystem\' is missing (e.g. "Maven", "PyPI", "Debian:12")')
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput(f"{where}: 'package.name' is missing (e.g. \"org.apache.logging.log4j:log4j-core\")")
    if purl is not None and not isinstance(purl, str):
        raise InvalidInput(f"{where}: 'package.purl' must be a string, not {_kind(purl)}")
    return Affected(
        ecosystem=ecosystem.strip(),
        name=name.strip(),
        purl=purl or None,
        ranges=ranges,
        versions=versions,
    )


def _range(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidInput(f"{where}: must be a JSON object, not {_kind(value)}")
    kind = value.get("type")
    if not isinstance(kind, str) or not kind:
        raise InvalidInput(f"{where}: 'type' is missing (SEMVER, ECOSYSTEM or GIT)")
    events = value.get("events")
    if not isinstance(events, list) or not events:
        raise InvalidInput(
            f'{where}: \'events\' must be a non-empty list such as [{{"introduced": "0"}}, {{"fixed": "1.2.3"}}]'
        )
    for index, event in enumerate(events):
        if (
            not isinstance(event, dict)
            or len(event) != 1
            or next(iter(event)) not in EVENT_KINDS
            or not isinstance(next(iter(event.values())), str)
        ):
            raise InvalidInput(
                f"{where}: events[{index}] must be one of {', '.join(EVENT_KINDS)} with a version string, "
                f'e.g. {{"fixed": "1.2.3"}}; got {json.dumps(event)[:120]}'
            )
    return value


def _severity(record: Mapping[str, Any], affected: list[Any], where: str) -> tuple[Severity, float | None]:
    entries: list[tuple[object, str]] = [(record.get("severity"), f"{where}: severity")]
    labels: list[object] = [_get(record.get("database_specific"), "severity")]
    for index, entry in enumerate(affected):
        entries.append((entry.get("severity"), f"{where}: affected[{index}].severity"))
        labels.append(_get(entry.get("ecosystem_specific"), "severity"))
        labels.append(_get(entry.get("database_specific"), "severity"))
    scores: list[float] = []
    for value, entry_where in entries:
        if value is not None and not isinstance(value, list):
            raise InvalidInput(f"{entry_where}: must be a JSON array, not {_kind(value)}")
        for index, item in enumerate(value or []):
            item_where = f"{entry_where}[{index}]"
            if not isinstance(item, dict) or not isinstance(item.get("type"), str) or not isinstance(item.get("score"), str):
                raise InvalidInput(
                    f'{item_where}: must be {{"type": "CVSS_V3", "score": "CVSS:3.1/..."}}, not {json.dumps(item)[:120]}'
                )
            kind, score = item["type"], item["score"]
            if kind == "CVSS_V3":
                try:
                    scores.append(cvss3_base_score(score))
                except InvalidInput as exc:
                    raise InvalidInput(f"{item_where}: {exc.message}") from None
            elif kind == "Ubuntu":
                labels.append(score)
    if scores:
        best = max(scores)
        return Severity.of_score(best), best
    named = [s for s in (severity_label(label) for label in labels) if s is not None]
    if named:
        return max(named), None
    return Severity.UNKNOWN, None


def _get(value: object, key: str) -> object:
    return value.get(key) if isinstance(value, dict) else None


def _list(value: object, field: str, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidInput(f"{where}: {field!r} must be a JSON array, not {_kind(value)}")
    return value


def _strings(value: object, field: str, where: str) -> list[str]:
    items = _list(value, field, where)
    for item in items:
        if not isinstance(item, str):
            raise InvalidInput(f"{where}: {field!r} must hold strings, not {_kind(item)} ({json.dumps(item)[:60]})")
    return items


def _kind(value: object) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return "null" if value is None else type(value).__name__
