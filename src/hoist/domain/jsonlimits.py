"""The one reader of untrusted JSON: a byte cap and a nesting cap, both checked before parsing.

``json.loads`` recurses once per level: a body like ``{"x":[[[[…]]]]}`` 100,000 levels deep raises
RecursionError (a 500 if nothing catches it), and whatever walks the document afterwards (schema
validators, SBOM readers) recurses as deep again. So the nesting is counted first, by a linear scan
that skips string contents, and a document deeper than its cap is refused unread.

Every cap is named here, so that the limits of the server are in one place.
"""

from __future__ import annotations

import itertools
import json
import operator
import re
import sys
from typing import Any

from hoist.domain.errors import InvalidInput, TooLarge

MIB = 1024 * 1024

MAX_DEPTH = 64  # CycloneDX nests components in components; real documents stay far below this
API_BODY_BYTES = 1 * MIB  # an ordinary /api/v1 request body
MANIFEST_BYTES = 4 * MIB  # what clients expect registries to accept (distribution-spec)
STATEMENT_BYTES = 4 * MIB  # DSSE envelopes, in-toto statements, cosign payloads and bundles
PACKAGE_FILE_BYTES = 16 * MIB  # a package.json or lock file read from an artifact to make its SBOM
HEADER_BYTES = 8 * 1024  # a JSON request header (X-Hoist-Pipeline)
SBOM_BYTES = 64 * MIB  # an image's SBOM lists every file of every package
ADVISORY_BYTES = 512 * MIB  # an OSV import: one record, a list of them, or osv.dev's all.zip

# A JSON string, escapes included. The closing quote is optional so that an unterminated string
# is consumed once to the end: were it required, every later quote would rescan the rest of the
# text (quadratic time on a body of escaped quotes).
_STRINGS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?', re.DOTALL)
_NOT_BRACKETS = re.compile(r"[^\[\]{}]+")
# An opening bracket counts 2 and a closing one 0: the running sum minus the count of brackets
# read is the depth, so the whole scan runs in C (a Python loop per bracket is 10x slower).
_STEPS = bytes.maketrans(b"[{]}", b"\x02\x02\x00\x00")


def read_json(
    data: bytes | str,
    *,
    limit: int,
    where: str = "",
    invalid: type[InvalidInput] = InvalidInput,
    max_depth: int = MAX_DEPTH,
) -> Any:
    """``data`` parsed, if it is at most ``limit`` bytes (else TooLarge) and nests at most
    ``max_depth`` arrays and objects (else ``invalid``, as for anything that is not JSON).
    ``where`` (a file name, "manifest") prefixes every message."""
    prefix = f"{where}: " if where else ""
    if len(data) > limit:
        raise TooLarge(f"{prefix}the JSON is larger than {limit} bytes", limit=limit)
    try:
        text = data.decode() if isinstance(data, bytes) else data
    except UnicodeDecodeError:
        raise invalid(f"{prefix}not JSON: the bytes are not UTF-8 text") from None
    if nesting(text) > max_depth:
        raise invalid(f"{prefix}the JSON is nested too deeply (over {max_depth} levels)", max_depth=max_depth)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise invalid(f"{prefix}not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except ValueError:  # an integer of more digits than Python converts (sys.get_int_max_str_digits)
        raise invalid(f"{prefix}not JSON: a number has more than {sys.get_int_max_str_digits()} digits") from None


def nesting(text: str) -> int:
    """How deep arrays and objects nest in ``text``, counted outside strings, in linear time. In text
    that is not JSON the count may be off, but never lower than how deep a JSON parser gets before
    it finds the error."""
    brackets = _NOT_BRACKETS.sub("", _STRINGS.sub("", text)).encode("ascii").translate(_STEPS)
    return max(map(operator.sub, itertools.accumulate(brackets), itertools.count(1)), default=0)
