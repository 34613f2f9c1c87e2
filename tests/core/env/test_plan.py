"""The plan's states and reasons, the narinfo queries, the roots file and the state file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from revive.core.closure import load_closure
from revive.core.env.known_gone import gone_site
from revive.core.env.plan import (
    PlanSettings,
    SourceRecord,
    SourceState,
    plan_sources,
    survey_outputs,
)
from revive.core.env.roots import parse_roots
from revive.core.env.state import EnvState, load_state, lowering_key, save_state
from revive.core.env.substitutes import narinfo_url, query_substitutes
from revive.core.errors import ParseError, ReviveError
from revive.core.store_dir import StoreDir
from revive.core.stores.embedded import EmbeddedStore


def plan(environment, settings: PlanSettings, *, present=None, substitutable=None):
    copy = StoreDir.open(environment.copy)
    graph = load_closure([environment.root], copy)
    fods = [p for p in graph.topological_order() if graph.is_fixed_output(p)]
    records = plan_sources(
        graph.derivations,
        fods,
        lambda p: copy.read_bytes(p),
        settings,
        present=present or {},
        substitutable=substitutable or {},
    )
    return {
        role: next(r for r in records if r.drv == drv) for role, drv in environment.fods.items()
    }


def test_every_state_and_its_reason(environment) -> None:
    out = environment.outputs
    by_role = plan(
        environment,
        PlanSettings(),
        present={out["present"]: "valid in the embedded store"},
        substitutable={out["subst"]: "http://127.0.0.1:1"},
    )
    states = {role: (r.state, r.method, r.era) for role, r in by_role.items()}
    assert states == {
        "url": (SourceState.FETCH, "url-fetch", "builtin"),
        "present": (SourceState.PRESENT, "url-fetch", "builtin"),
        "subst": (SourceState.SUBSTITUTABLE, "url-fetch", "builtin"),
        "missing": (SourceState.FETCH, "url-fetch", "builtin"),
        "gone": (SourceState.NOT_FETCHABLE, "git-fetch", "builtin"),
        "git-old": (SourceState.FETCH_REWRITTEN, "git-fetch", "in-band"),
        "raw": (SourceState.NOT_FETCHABLE, "unknown", "raw"),
    }
    assert by_role["present"].reason == "valid in the embedded store"
    assert by_role["subst"].reason == "http://127.0.0.1:1 has it"
    assert (
        by_role["git-old"].reason
        == "its in-band git-fetch script needs the old git built from source first"
    )
    assert by_role["git-old"].rewritten is not None
    assert by_role["url"].rewritten is None and by_role["url"].reason == ""
    gone = by_role["gone"].reason
    assert gone.startswith("https://gitorious.org/p/p.git is gone (Gitorious closed in 2015)")
    assert "--url-rewrite OLD=NEW" in gone
    assert by_role["raw"].reason  # classify says why it is not recognised


def test_gone_site_with_a_way_around(environment) -> None:
    moved = plan(
        environment,
        PlanSettings(url_rewrites=(("https://gitorious.org/", "https://gitlab.com/"),)),
    )["gone"]
    assert moved.state is SourceState.FETCH
    assert "fetched where --url-rewrite points" in moved.reason
    nar = plan(environment, PlanSettings(nar_mirrors=("http://127.0.0.1:1",)))["gone"]
    assert nar.state is SourceState.FETCH
    assert "only nar mirrors can have it" in nar.reason


def test_missing_tool_is_not_fetchable(environment) -> None:
    by_role = plan(environment, PlanSettings(have_tool=lambda name: name != "git"))
    assert by_role["git-old"].state is SourceState.NOT_FETCHABLE
    assert by_role["git-old"].reason == "needs git, which is not installed here"
    # ...unless the daemon fetches git itself
    daemon = plan(environment, PlanSettings(have_tool=lambda n: False, local_tools=frozenset()))
    assert daemon["git-old"].state is SourceState.FETCH_REWRITTEN


def test_gone_site_table() -> None:
    assert gone_site(["https://code.google.com/p/x/"], "git-fetch") is not None
    assert gone_site(["https://www.gitorious.org/x.git"], "git-fetch") is not None
    assert gone_site(["https://notgitorious.org/x.git"], "git-fetch") is None
    # Bitbucket dropped Mercurial only: its git repositories are still there.
    assert gone_site(["https://bitbucket.org/a/b"], "hg-fetch") is not None
    assert gone_site(["https://bitbucket.org/a/b.git"], "git-fetch") is None
    assert gone_site([":pserver:anonymous@cvs.example.org:/cvs"], "cvs-fetch") is None


def test_survey_counts_the_store_and_the_copy(environment, tmp_path: Path) -> None:
    copy = StoreDir.open(environment.copy)
    store = EmbeddedStore(tmp_path / "target", read_only=[copy])
    out = environment.outputs
    data = tmp_path / "present"
    data.write_bytes(b"already here\n")
    store.add_fixed("present-1.0.tar.gz", data, recursive=False)
    # an output someone copied into the store copy itself
    (environment.copy / Path(out["url"]).name).write_bytes(b"hello tarball\n" * 50)
    present = survey_outputs(list(out.values()), store, copy)
    assert present == {
        out["present"]: "valid in the embedded store",
        out["url"]: f"in the store copy {environment.copy}",
    }


def test_narinfo_queries(environment, loopback) -> None:
    out = environment.outputs
    dead = "http://127.0.0.1:9"  # nothing listens on the discard port
    answers = query_substitutes(
        [out["url"], out["subst"], out["missing"]], [dead, loopback.base], timeout=5
    )
    assert answers.found == {out["subst"]: loopback.base}
    assert set(answers.errors) == {dead}
    # The dead server was asked once, not once per path; each path once on the live one.
    asked = [p for p in loopback.requests if p.endswith(".narinfo")]
    assert len(asked) == 3
    assert narinfo_url(loopback.base + "/", out["subst"]).endswith(
        f"{Path(out['subst']).name[:32]}.narinfo"
    )


def test_narinfo_for_another_path_does_not_count(environment, loopback) -> None:
    out = environment.outputs
    subst_info = next(k for k in loopback.files if k.endswith(".narinfo"))
    loopback.files[subst_info] = b"StorePath: /gnu/store/" + b"0" * 32 + b"-other\n"
    assert query_substitutes([out["subst"]], [loopback.base]).found == {}


def test_roots_file() -> None:
    text = "# from a colleague\n\n/gnu/store/mc7i1cdi42gy89mxl48nhdhgrfa9lpq6-hello-2.11.drv\n"
    text += "/gnu/store/mc7i1cdi42gy89mxl48nhdhgrfa9lpq6-hello-2.11.drv\n"
    assert parse_roots(text) == ("/gnu/store/mc7i1cdi42gy89mxl48nhdhgrfa9lpq6-hello-2.11.drv",)
    with pytest.raises(ParseError) as caught:
        parse_roots(
            "/gnu/store/mc7i1cdi42gy89mxl48nhdhgrfa9lpq6-hello-2.11.drv\n  hello\n", "r.txt"
        )
    assert str(caught.value) == "r.txt:2:3: not the store path of a .drv: 'hello'"
    with pytest.raises(ParseError, match="no .drv path"):
        parse_roots("# nothing\n", "-")


def test_state_file_round_trip_and_errors(tmp_path: Path) -> None:
    record = SourceRecord(
        "/gnu/store/mspyllkw4d2395akavrkjkiw1p448p9a-hello-2.10.tar.gz.drv",
        "/gnu/store/hbdalsf5lpf01x4dcknwx6xbn6n5km6k-hello-2.10.tar.gz",
        "url-fetch",
        "builtin",
        SourceState.FAILED,
        "not found: http://x",
        ("embedded: as is: not found: http://x",),
        "/gnu/store/594km2lm31vvsdi6hvy4wh70czcm3sfq-hello-2.10.tar.gz.drv",
    )
    path = tmp_path / "sub" / "r.state.json"
    state = EnvState(
        "k", ("/gnu/store/gknm68l0q893bpvyhcd4ccih1bmh0j87-hello-2.10.drv",), {record.drv: record}
    )
    save_state(path, state)
    assert load_state(path) == state
    assert [p.name for p in path.parent.iterdir()] == ["r.state.json"]  # no temporary left
    assert load_state(tmp_path / "none.json") is None
    path.write_text(json.dumps({"version": 1, "sources": [{"drv": 1}]}))
    with pytest.raises(
        ReviveError,
        match=r"r\.state\.json: field 'drv' must be a string \(remove it, or run with --fresh\)",
    ):
        load_state(path)
    path.write_text("{")
    with pytest.raises(ReviveError, match="r.state.json: "):
        load_state(path)


def test_lowering_key_follows_the_files(tmp_path: Path) -> None:
    channels = tmp_path / "channels.scm"
    channels.write_text("(list)")
    argv = ("guix", "time-machine", "-C", str(channels))
    before = lowering_key(argv, [str(channels), None])
    assert lowering_key(argv, [str(channels)]) == before
    channels.write_text("(list %default-channels)")
    assert lowering_key(argv, [str(channels)]) != before
    with pytest.raises(ReviveError, match="cannot read"):
        lowering_key(argv, [str(tmp_path / "missing.scm")])


def test_to_export_and_unneeded_states(environment) -> None:
    """A source the embedded store has is ``to export``; the old git's own source,
    needed only to build the old fetcher of a source fetched in today's form, is
    ``unneeded``."""
    from revive.core.derivation import Derivation, Output
    from revive.core.derivation_hash import drv_path

    copy = StoreDir.open(environment.copy)
    graph = load_closure([environment.root], copy)
    old = graph.derivations[environment.fods["git-old"]]
    tool_out = "/gnu/store/" + "t" * 32 + "-git-2.25.tar.xz"
    tool = Derivation(
        "git-2.25.tar.xz",
        (Output("out", tool_out, "sha256", "00" * 32),),
        (),
        (),
        "x86_64-linux",
        "builtin:download",
        (),
        (("out", tool_out), ("url", '"http://127.0.0.1:9/git-2.25.tar.xz"')),
    )
    derivations = dict(graph.derivations)
    tool_path = drv_path(tool)
    derivations[tool_path] = tool
    # The old git FOD, as if built with a git whose source is `tool`.
    old_path = environment.fods["git-old"]
    derivations[old_path] = Derivation(
        old.name, old.outputs, ((tool_path, ("out",)),), old.input_srcs, old.system,
        old.builder, old.args, old.env,
    )  # fmt: skip
    fods = [tool_path, old_path, environment.fods["url"]]
    read = lambda p: copy.read_bytes(p)  # noqa: E731
    url_out = environment.outputs["url"]
    records = plan_sources(
        derivations,
        fods,
        read,
        PlanSettings(have_tool=lambda name: True),
        present={},
        substitutable={},
        exportable={url_out: "in the embedded store"},
        roots=[old_path, environment.fods["url"]],
    )
    by_drv = {r.drv: r for r in records}
    assert by_drv[tool_path].state is SourceState.UNNEEDED and by_drv[tool_path].done
    assert by_drv[old_path].state is SourceState.FETCH_REWRITTEN
    assert by_drv[environment.fods["url"]].state is SourceState.EXPORT
    assert by_drv[environment.fods["url"]].reason == "in the embedded store"
    # Without the roots, nothing is walked: nothing is marked unneeded.
    again = plan_sources(derivations, fods, read, PlanSettings(have_tool=lambda n: True),
                         present={}, substitutable={})  # fmt: skip
    assert SourceState.UNNEEDED not in {r.state for r in again}
