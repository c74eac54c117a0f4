from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from allin.config import BlobBackend, ChatStoreBackend, LLMProvider, Settings


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


def test_defaults_run_offline_with_embedded_postgres() -> None:
    defaults = settings()
    assert defaults.llm_provider is LLMProvider.OFFLINE
    assert defaults.database_url is None
    assert defaults.data_dir == Path(".allin")
    assert (defaults.host, defaults.port) == ("127.0.0.1", 8000)
    assert defaults.max_message_bytes == 32 * 1024


def test_a_gemini_key_selects_gemini(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOOGLE_API_KEY", "k")
    chosen = settings()
    assert chosen.llm_provider is LLMProvider.GEMINI
    assert chosen.gemini_model == "gemini-2.0-flash"


def test_gemini_without_a_key_fails_at_start_up() -> None:
    with pytest.raises(ValidationError, match="needs GEMINI_API_KEY"):
        settings(llm="gemini")


def test_environment_and_dotenv_are_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("ALLIN_LLM=openai\nALLIN_OPENAI_MODEL=qwen2.5\nPORT=9001\n")
    monkeypatch.setenv("DATABASE_URL", "postgresql://db.example/allin")
    chosen = Settings(_env_file=env_file)  # type: ignore[call-arg]
    assert chosen.llm_provider is LLMProvider.OPENAI
    assert (chosen.openai_model, chosen.port) == ("qwen2.5", 9001)
    assert chosen.database_url == "postgresql://db.example/allin"


def test_unknown_provider_is_refused() -> None:
    with pytest.raises(ValidationError):
        settings(llm="gpt-7")


def test_env_example_names_only_real_settings() -> None:
    """`.env.example` documents the settings; a renamed or removed one must not linger there."""
    import re

    from pydantic import AliasChoices

    from tests.conftest import project_root

    known: set[str] = set()
    for name, field in Settings.model_fields.items():
        known.add(f"ALLIN_{name.upper()}")
        if isinstance(field.validation_alias, AliasChoices):
            known.update(str(choice) for choice in field.validation_alias.choices)
    text = (project_root() / ".env.example").read_text()
    documented = set(re.findall(r"^# ([A-Z][A-Z0-9_]+)=", text, flags=re.MULTILINE))
    assert documented, "no settings found in .env.example"
    assert documented <= known, documented - known


def test_stores_default_to_local_files_and_postgres() -> None:
    defaults = settings()
    assert (defaults.blobs, defaults.chat_store) == (BlobBackend.LOCAL, ChatStoreBackend.POSTGRES)


@pytest.mark.parametrize("store", [{"blobs": "supabase"}, {"chat_store": "supabase"}])
def test_a_supabase_store_needs_url_and_service_key(store: dict[str, str]) -> None:
    with pytest.raises(ValidationError, match="needs SUPABASE_URL and SUPABASE_SERVICE_KEY"):
        settings(**store)
    with pytest.raises(ValidationError, match="needs SUPABASE_URL and SUPABASE_SERVICE_KEY"):
        settings(**store, supabase_url="https://x.supabase.co")
    assert settings(**store, supabase_url="https://x.supabase.co", supabase_service_key="k")


def test_the_service_role_key_has_supabase_s_name_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUPABASE_SERVICE_ROLE_KEY", "service-key")
    key = settings().supabase_service_key
    assert key is not None and key.get_secret_value() == "service-key"


def test_memory_is_on_by_default_and_can_be_turned_off(monkeypatch: pytest.MonkeyPatch) -> None:
    defaults = settings()
    assert (defaults.memory, defaults.memory_top_k) == (True, 5)
    monkeypatch.setenv("ALLIN_MEMORY", "off")
    assert settings().memory is False
