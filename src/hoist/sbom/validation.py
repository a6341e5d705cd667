"""CycloneDX JSON schema validation with cyclonedx-python-lib, in linear time.

jsonschema checks ``uniqueItems`` on arrays of objects by comparing every pair, so validating a
2,000-component SBOM in one piece takes tens of seconds (measured: 41 s of 43 s went there). Large
arrays are therefore validated in slices by the library's own validator: the document with every
large array cut to its first slice and every nested ``components`` array emptied, then each further
slice (and each nested array) wrapped in a minimal document. Every item still meets the library's
schema; only the uniqueness of the sliced arrays is checked here, on the whole arrays, by hashing the
canonical JSON of each item."""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Sequence
from functools import cache
from typing import Any

from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator, JsonValidator

SLICE = 16
_HEADER = ("bomFormat", "specVersion")

Path = tuple[str | int, ...]
Validator = JsonValidator | JsonStrictValidator


@cache
def _validator(version: SchemaVersion, *, strict: bool) -> Validator:
    return JsonStrictValidator(version) if strict else JsonValidator(version)


class _Slicer:
    def __init__(self) -> None:
        self.queue: deque[tuple[Path, list[Any], int]] = deque()  # (array path, items, index of the first)
        self.arrays: list[tuple[Path, list[Any]]] = []  # sliced arrays, checked for uniqueness whole

    def detach(self, items: list[Any], path: Path, offset: int) -> list[Any]:
        """``items`` with each nested ``components`` array emptied and queued."""
        out = []
        for index, item in enumerate(items):
            nested = item.get("components") if isinstance(item, dict) else None
            if isinstance(nested, list) and nested:
                nested_path = (*path, offset + index, "components")
                self.queue.append((nested_path, nested, 0))
                self.arrays.append((nested_path, nested))
                out.append({**item, "components": []})
            else:
                out.append(item)
        return out


def first_error(document: dict[str, Any], version: SchemaVersion, *, strict: bool = False) -> tuple[str, str] | None:
    """``(json path, message)`` of the first schema violation in ``document``, or None if it is valid."""
    validator = _validator(version, strict=strict)
    slicer = _Slicer()
    skeleton: dict[str, Any] = {}
    for key, value in document.items():
        if isinstance(value, list) and (len(value) > SLICE or key == "components"):
            slicer.arrays.append(((key,), value))
            if len(value) > SLICE:
                slicer.queue.append(((key,), value[SLICE:], SLICE))
            skeleton[key] = slicer.detach(value[:SLICE], (key,), 0)
        else:
            skeleton[key] = value
    sliced_keys = {str(path[0]) for path, _ in slicer.arrays if len(path) == 1}
    error = _check(validator, skeleton, prefix=(), offset=0, sliced=sliced_keys)
    header = {key: document[key] for key in _HEADER if key in document}
    while error is None and slicer.queue:
        path, items, offset = slicer.queue.popleft()
        key = str(path[-1])  # the top-level key, or "components" for a nested array
        for start in range(0, len(items), SLICE):
            wrapped = {**header, key: slicer.detach(items[start : start + SLICE], path, offset + start)}
            error = _check(validator, wrapped, prefix=path, offset=offset + start, sliced={key})
            if error:
                break
    if error:
        return error
    for path, items in slicer.arrays:
        duplicate = _duplicate(items)
        if duplicate:
            return _render(path), f"array has non-unique elements: items {duplicate[0]} and {duplicate[1]} are equal"
    return None


def _check(
    validator: Validator, document: dict[str, Any], *, prefix: Path, offset: int, sliced: set[str]
) -> tuple[str, str] | None:
    errors = validator.validate_str(json.dumps(document), all_errors=True)
    for error in errors or ():
        detail = error.data
        where: list[str | int] = list(detail.absolute_path)
        if detail.validator == "uniqueItems" and len(where) == 1 and where[0] in sliced:
            continue  # a sliced array: its uniqueness is checked on the whole array
        if prefix:
            where = [*prefix, offset + int(where[1]), *where[2:]] if len(where) > 1 else list(prefix)
        message = str(detail.message)
        return _render(where), message if len(message) <= 300 else message[:297] + "..."
    return None


def _duplicate(items: list[Any]) -> tuple[int, int] | None:
    seen: dict[str, int] = {}
    for index, item in enumerate(items):
        key = json.dumps(item, sort_keys=True, separators=(",", ":"))
        if key in seen:
            return seen[key], index
        seen[key] = index
    return None


def _render(parts: Sequence[str | int]) -> str:
    return "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts)
