"""``Authenticator.recent``: the non-blocking answer the identity middleware tries before a thread
hop. It knows only API tokens this process proved a moment ago, and never says more than
``authenticate`` would: a password, an unknown token, a token sent under another principal's name and
a token revoked since are all left to the full check (which audits the refusals)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from hoist.app import Services
from hoist.domain.errors import Unauthenticated
from tests.conftest import ADMIN


def test_a_token_proved_once_is_known_without_the_database_as_bearer_and_as_basic(
    services: Services, token_for: Callable[..., str]
) -> None:
    auth = services.authentication
    token = token_for("dana", ["role:viewer"])
    assert auth.recent(None, token, "10.0.0.1") is None  # not proved yet in this process
    assert auth.authenticate_token(token, "10.0.0.1").name == "dana"
    for username in (None, "dana", "__token__", "token"):
        known = auth.recent(username, token, "10.0.0.2")
        assert known is not None and known.name == "dana" and known.source == "10.0.0.2"


def test_it_never_answers_for_a_password_an_unknown_token_or_another_name(
    services: Services, token_for: Callable[..., str]
) -> None:
    auth = services.authentication
    token = token_for("dana", ["role:viewer"])
    auth.authenticate_token(token, None)
    assert auth.recent("mallory", token, None) is None  # the full check refuses it, audited
    with pytest.raises(Unauthenticated, match="does not belong to that username"):
        auth.authenticate("mallory", token, None)
    assert auth.recent(None, token[:-2] + "xx", None) is None
    assert auth.recent("dana", "a password", None) is None


def test_a_revoked_token_is_forgotten_at_once_in_the_process_that_revoked_it(
    services: Services, token_for: Callable[..., str]
) -> None:
    auth = services.authentication
    token = token_for("dana", ["role:viewer"])
    auth.authenticate_token(token, None)
    (listed,) = services.tokens.tokens(ADMIN, owner="dana")
    services.tokens.revoke_token(ADMIN, listed.id)
    assert auth.recent(None, token, None) is None
    with pytest.raises(Unauthenticated):
        auth.authenticate_token(token, None)
