"""Ids match the contracts' patterns; tokens are long, random and verified by hash."""

from __future__ import annotations

import re

from pasar_kit.ids import new_id, new_token, token_hash, token_matches


def test_ids_match_the_contract_pattern_and_differ() -> None:
    ids = {new_id("ord") for _ in range(1000)}
    assert len(ids) == 1000
    assert all(re.fullmatch(r"ord_[0-9a-f]{32}", i) for i in ids)


def test_tokens_verify_only_against_their_own_hash() -> None:
    token, other = new_token(), new_token()
    assert len(token) >= 43
    assert token_matches(token, token_hash(token))
    assert not token_matches(other, token_hash(token))
    assert token not in token_hash(token)
