"""Settings: what a printed or logged Settings shows."""

from __future__ import annotations

from server.settings import Settings


def test_repr_never_shows_a_credential_or_a_key() -> None:
    settings = Settings(password="hunter2-pw", token_key="t" * 40, secret_key="s3cret-key-value")
    for text in (repr(settings), str(settings), f"{settings}"):
        assert "hunter2-pw" not in text
        assert "t" * 40 not in text
        assert "s3cret-key-value" not in text
        assert "password=**********" in text
        assert "host='127.0.0.1'" in text  # the rest is still shown
    assert set(Settings.__struct_fields__) >= Settings.SECRET_FIELDS
