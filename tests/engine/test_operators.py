"""Operator tokens and passwords."""

from __future__ import annotations

from engine.service.operators import hash_password, issue_token, read_token, verify_password


def test_token_names_its_operator_until_it_expires() -> None:
    token = issue_token("k" * 32, 42, ttl_seconds=60, now=1_000_000)
    assert read_token("k" * 32, token, now=1_000_030) == 42
    assert read_token("k" * 32, token, now=1_000_061) is None


def test_token_is_refused_with_another_key_or_when_altered() -> None:
    token = issue_token("k" * 32, 42, ttl_seconds=60)
    assert read_token("other" * 8, token) is None
    forged = "43" + token[2:]
    assert read_token("k" * 32, forged) is None
    assert read_token("k" * 32, "not-a-token") is None


def test_password_hash_verifies_only_the_password() -> None:
    hashed = hash_password("correct-horse")
    assert hashed != "correct-horse"
    assert verify_password(hashed, "correct-horse")
    assert not verify_password(hashed, "wrong-horse")
    assert not verify_password("garbage", "correct-horse")
