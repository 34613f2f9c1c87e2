"""The audit of the demo against its loopback servers, and ``guix-revive audit``."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest

from revive.core.archive.answer import Fallback, Status
from revive.core.archive.audit import AuditCancelled, FodArchival, run_audit
from revive.core.archive.cache import AnswerCache
from revive.core.archive.report import audit_json, report_order, rollup, saved_label
from revive.core.archive.targets import FodTarget, fod_targets
from revive.core.closure import load_closure
from revive.core.demo.archive_services import demo_archive_config
from revive.core.demo.generate import generate_demo
from revive.core.demo.model import DemoEnvironment
from revive.core.demo.serve import DemoServers
from revive.core.store_dir import StoreDir
from revive.tui.cli import main


@pytest.fixture(scope="module")
def demo_env(tmp_path_factory: pytest.TempPathFactory) -> DemoEnvironment:
    return generate_demo(tmp_path_factory.mktemp("demo") / "demo")


@pytest.fixture(scope="module")
def demo_targets(demo_env: DemoEnvironment) -> list[FodTarget]:
    store = StoreDir.open(demo_env.store_dir, demo_env.logical_store_dir)
    graph = load_closure(list(demo_env.root_paths), store)
    return fod_targets(graph, store.read_bytes)


@pytest.fixture(scope="module")
def demo_results(demo_env: DemoEnvironment, demo_targets: list[FodTarget]) -> list[FodArchival]:
    with DemoServers(demo_env, port=0) as servers:
        return run_audit(demo_targets, demo_archive_config(servers))


def test_every_fallback_has_something_and_the_broken_sources_are_saved(
    demo_env: DemoEnvironment, demo_results: list[FodArchival]
) -> None:
    summary = rollup(demo_results)
    assert summary.total == len(demo_env.sources)
    for fallback in Fallback:
        assert summary.coverage[str(fallback)]["available"] > 0, fallback
    assert all(c["unknown"] == 0 for c in summary.coverage.values())
    by_drv = {r.target.drv_path: r for r in demo_results}
    gone = by_drv[demo_env.special_of("upstream-gone").drv_path]
    moved = by_drv[demo_env.special_of("repository-moved").drv_path]
    assert gone.verdict(Fallback.UPSTREAM).status is Status.MISSING  # type: ignore[union-attr]
    assert gone.saved_by is Fallback.CA_MIRROR
    assert set(gone.available) == {Fallback.CA_MIRROR, Fallback.SWH, Fallback.DISARCHIVE}
    assert moved.saved_by is Fallback.SWH and Fallback.NAR in moved.available
    assert moved.verdict(Fallback.NAR).nar_size  # type: ignore[union-attr]
    # Sources at risk come first in the report.
    assert [saved_label(r) for r in report_order(demo_results)][:2] == ["swh", "ca-mirror"]


def test_every_ok_source_is_available_upstream(
    demo_env: DemoEnvironment, demo_results: list[FodArchival]
) -> None:
    status = {s.drv_path: s.status for s in demo_env.sources}
    for result in demo_results:
        upstream = result.verdict(Fallback.UPSTREAM)
        assert upstream is not None
        expected = Status.AVAILABLE if status[result.target.drv_path] == "ok" else Status.MISSING
        assert upstream.status is expected, (result.target.name, upstream)


def test_json_report_lists_every_fod(demo_results: list[FodArchival]) -> None:
    data = audit_json(demo_results)
    assert len(data["fods"]) == len(demo_results)  # type: ignore[arg-type]
    json.dumps(data)


def test_the_audit_can_be_cancelled(
    demo_env: DemoEnvironment, demo_targets: list[FodTarget]
) -> None:
    stop = threading.Event()
    stop.set()
    with DemoServers(demo_env, port=0) as servers, pytest.raises(AuditCancelled):
        run_audit(demo_targets, demo_archive_config(servers), stop=stop)


def test_offline_audit_answers_from_the_cache(
    demo_env: DemoEnvironment, demo_targets: list[FodTarget], tmp_path: Path
) -> None:
    cache = AnswerCache(tmp_path / "answers.json")
    with DemoServers(demo_env, port=0) as servers:
        config = demo_archive_config(servers)
        online = run_audit(demo_targets, config, cache=cache)
        served = len(servers.requests)
        offline = run_audit(
            demo_targets, config, cache=AnswerCache(tmp_path / "answers.json"), offline=True
        )
        assert len(servers.requests) == served
    assert rollup(offline) == rollup(online)


def test_cli_demo_serve_json(demo_env: DemoEnvironment, capsys: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr("revive.core.demo.generate.default_demo_dir", lambda: demo_env.demo_dir)
    assert main(["audit", "--demo-serve", "--json", "--refresh"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["total"] == len(demo_env.sources)
    assert set(data["saved_by"]) >= {"upstream", "ca-mirror", "swh"}
    assert all(data["coverage"][str(f)]["available"] for f in Fallback)


@pytest.mark.parametrize("form", ["--markdown", "--html", None])
def test_cli_other_forms(
    demo_env: DemoEnvironment, capsys: Any, monkeypatch: Any, form: str | None
) -> None:
    monkeypatch.setattr("revive.core.demo.generate.default_demo_dir", lambda: demo_env.demo_dir)
    assert main(["audit", "--demo-serve", *([form] if form else [])]) == 0
    out = capsys.readouterr().out
    assert "flowCore" in out and "kopi" in out
    if form == "--html":
        assert out.startswith("<!DOCTYPE html>") and "<table>" in out
    elif form == "--markdown":
        assert "| ↑ upstream |" in out or "| ↑ upstream" in out


def test_cli_bad_options_exit_2(capsys: Any) -> None:
    assert main(["audit", "--offline", "--refresh"]) == 2
    assert "cannot be used together" in capsys.readouterr().err
    assert main(["audit", "/nonexistent/x.drv", "--store", "/nonexistent"]) == 2
