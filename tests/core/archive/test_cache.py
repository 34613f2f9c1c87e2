"""The answer cache: lifetimes, --refresh, --offline, atomic merge-on-save."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

from revive.core.archive.answer import ErrorClass, Fallback, ProbeAnswer, Status
from revive.core.archive.cache import AnswerCache, default_answer_cache_path
from revive.core.archive.config import ArchiveConfig
from revive.core.archive.context import ProbeContext
from revive.core.archive.http_client import HttpClient
from revive.core.archive.swh import probe_swh_content

HEX = "ab" * 32


def answer(status: Status, age: float = 0.0) -> ProbeAnswer:
    return ProbeAnswer(Fallback.SWH, "q", status, where="w", checked_at=time.time() - age)


def test_answers_expire_by_status(tmp_path: Path) -> None:
    cache = AnswerCache(tmp_path / "a.json", ttl_available=100, ttl_missing=10)
    cache.put("fresh", answer(Status.AVAILABLE, age=50))
    cache.put("old-missing", answer(Status.MISSING, age=50))
    cache.put("unknown", ProbeAnswer(Fallback.SWH, "q", Status.UNKNOWN, error=ErrorClass.TIMEOUT))
    kept = cache.get("fresh")
    assert kept is not None and kept.cached and kept.status is Status.AVAILABLE
    assert cache.get("old-missing") is None
    assert cache.get("old-missing", stale_ok=True) is not None
    assert cache.get("unknown") is None


def test_save_is_atomic_and_merges_with_another_writer(tmp_path: Path) -> None:
    path = tmp_path / "dir" / "answers.json"
    one, two = AnswerCache(path), AnswerCache(path)
    one.put("a", answer(Status.AVAILABLE))
    one.save()
    two.put("b", answer(Status.MISSING))
    two.save()
    data = json.loads(path.read_text())
    assert sorted(data["answers"]) == ["a", "b"]
    assert [p.name for p in path.parent.iterdir()] == ["answers.json"]  # no temp file left
    assert AnswerCache(path).get("a") is not None


def test_a_damaged_file_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "answers.json"
    path.write_text("{not json")
    cache = AnswerCache(path)
    assert len(cache) == 0
    cache.put("a", answer(Status.AVAILABLE))
    cache.save()
    assert AnswerCache(path).get("a") is not None


def test_default_path_is_under_xdg_cache_home(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_answer_cache_path() == tmp_path / "guix-revive" / "archive" / "answers.json"


def _ask(config: ArchiveConfig, cache: AnswerCache, **mode: bool) -> ProbeAnswer:
    async def main() -> ProbeAnswer:
        client = None if mode.get("offline") else HttpClient(config)
        ctx = ProbeContext(config, client, cache, **mode)
        try:
            return await probe_swh_content(ctx, HEX)
        finally:
            if client is not None:
                await client.aclose()

    return asyncio.run(main())


def test_probes_use_refresh_and_offline(
    tmp_path: Path, loopback: Any, config: ArchiveConfig
) -> None:
    loopback.routes[f"/api/1/content/sha256:{HEX}/"] = (200, {}, b'{"swhid": "swh:1:cnt:1"}')
    cache = AnswerCache(tmp_path / "a.json")
    first = _ask(config, cache)
    assert first.status is Status.AVAILABLE and not first.cached
    again = _ask(config, cache)
    assert again.cached and len(loopback.requests) == 1
    refreshed = _ask(config, cache, refresh=True)
    assert not refreshed.cached and len(loopback.requests) == 2
    cache.save()
    offline = _ask(config, AnswerCache(tmp_path / "a.json"), offline=True)
    assert offline.cached and offline.status is Status.AVAILABLE and len(loopback.requests) == 2
    nothing = _ask(config, AnswerCache(tmp_path / "empty.json"), offline=True)
    assert nothing.status is Status.UNKNOWN and nothing.error is ErrorClass.NOT_CHECKED


def test_the_file_is_read_on_first_use_not_on_creation(tmp_path: Path) -> None:
    path = tmp_path / "answers.json"
    cache = AnswerCache(path)  # the app creates it on its UI thread: no reading there
    writer = AnswerCache(path)
    writer.put("a", answer(Status.AVAILABLE))
    writer.save()
    assert cache.get("a") is not None
