"""Exit codes (stable, for scripts):

0  done
1  error: the server failed or could not be reached, or something unexpected happened
2  bad input or usage: invalid version, name, digest, file, option
3  refused: a gate is not met, or policy denies the action (the message lists every reason)
4  conflict: the version holds other bytes, or the state changed meanwhile
5  not found: unknown artifact, package, registry, environment, deployment
6  integrity: bytes do not match their digest, or the audit chain is broken
7  the deployment command (--exec) failed; the failure is recorded
8  not authenticated: no credentials, or they are wrong, expired or revoked (`hoist login`)
"""

from __future__ import annotations

import click

from hoist.domain import errors as e

OK, ERROR, USAGE, REFUSED, CONFLICT, NOT_FOUND, INTEGRITY, EXEC_FAILED, UNAUTHENTICATED = range(9)

EXIT_CODES: tuple[tuple[type[e.HoistError], int], ...] = (
    (e.Unauthenticated, UNAUTHENTICATED),
    (e.InvalidInput, USAGE),
    (e.TooLarge, USAGE),
    (e.Refused, REFUSED),
    (e.Conflict, CONFLICT),
    (e.NotFound, NOT_FOUND),
    (e.IntegrityFailure, INTEGRITY),
)


class ExecFailed(click.ClickException):
    exit_code = EXEC_FAILED


class Failed(click.ClickException):
    """A failure with its own exit code (e.g. INTEGRITY when the audit chain is broken)."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code  # type: ignore[misc]  # click reads it per instance


def exit_code_of(error: e.HoistError) -> int:
    return next((code for cls, code in EXIT_CODES if isinstance(error, cls)), ERROR)
