"""Apps for the fault suite: the offline model slowed down so that a test can act mid-answer."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from allin.app import create_app
from tests.conftest import make_settings
from tests.support.servers import serve_ready

# Slow enough to drop a connection mid-answer, fast enough for a short suite.
TOKEN_DELAY_MS = 25


@pytest.fixture(scope="module")
def slow_server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    settings = make_settings(
        database_url=database_url,
        data_dir=tmp_path_factory.mktemp("slow"),
        offline_token_delay_ms=TOKEN_DELAY_MS,
    )
    with serve_ready(create_app(settings)) as url:
        yield url
