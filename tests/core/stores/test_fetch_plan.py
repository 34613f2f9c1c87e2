"""Planning a whole-closure fetch on the generated demo (old forms of every era)."""

from __future__ import annotations

import collections

import pytest
from live_guix import skip_recording_without_live_guix

from revive.core.closure import load_closure
from revive.core.demo.generate import generate_demo
from revive.core.derivation_hash import drv_path
from revive.core.errors import MissingStoreItem
from revive.core.store_dir import StoreDir
from revive.core.stores.embedded import EmbeddedStore
from revive.core.stores.fetch_plan import PlanState, plan_fetch, stage_plan
from revive.core.stores.guix import GuixStore

TOOLS = {
    "git-2.26.0.tar.xz",
    "subversion-1.10.6.tar.gz",
    "mercurial-5.2.1.tar.gz",
    "bzr-2.7.0.tar.gz",
    "cvs-1.12.13.tar.gz",
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    env = generate_demo(tmp_path_factory.mktemp("plan-demo") / "demo")
    copy = StoreDir.open(env.store_dir, env.logical_store_dir)
    return env, copy


def _load(demo, index):
    env, copy = demo
    root = env.root_paths[index]
    graph = load_closure([root], copy)
    fods = [p for p in graph.topological_order() if graph.is_fixed_output(p)]
    return root, graph, fods, copy


def _rewrite_plan(root, graph, fods, copy):
    return plan_fetch(
        [root],
        graph.derivations,
        frozenset(),
        read_item=copy.read_bytes,
        do_rewrite=True,
        order=fods,
    )


def test_rewriting_makes_the_old_fetchers_own_sources_unneeded(demo):
    root, graph, fods, copy = _load(demo, 0)
    plan = _rewrite_plan(root, graph, fods, copy)
    assert [e.drv_path for e in plan.entries] == fods
    unneeded = {e.label for e in plan.of(PlanState.UNNEEDED)}
    assert TOOLS <= unneeded
    assert not plan.of(PlanState.FETCH)
    for entry in plan.of(PlanState.REWRITTEN):
        assert entry.derivation is not None
        assert entry.job_drv == drv_path(entry.derivation) == entry.items[-1].path
        assert entry.derivation.outputs[0].path == entry.output_path
        assert not entry.derivation.input_drvs  # today's forms need no fetcher built
    # Without rewriting, the old fetchers are built, so their sources are needed.
    as_is = plan_fetch(
        [root], graph.derivations, frozenset(), read_item=copy.read_bytes, do_rewrite=False
    )
    assert collections.Counter(e.state for e in as_is.entries) == {PlanState.FETCH: len(fods)}
    assert len(plan.jobs()) == len(fods) - len(unneeded)


def test_a_valid_output_needs_nothing_its_derivation_needed(demo):
    root, graph, fods, copy = _load(demo, 1)
    git_fods = [  # the old git-fetch checkouts, built with a git built from source
        p for p in fods if any("-git-" in i for i in graph.derivations[p].input_drv_paths)
    ]
    assert git_fods
    valid = frozenset(graph.derivations[p].outputs[0].path for p in git_fods)
    plan = plan_fetch(
        [root], graph.derivations, valid, read_item=copy.read_bytes, do_rewrite=False, order=fods
    )
    states = {e.drv_path: e.state for e in plan.entries}
    assert {states[p] for p in git_fods} == {PlanState.VALID}
    assert "git-2.4.3.tar.xz" in {e.label for e in plan.of(PlanState.UNNEEDED)}
    assert {j.drv_path for j in plan.jobs()} == {
        p for p, s in states.items() if s is PlanState.FETCH
    }


def test_an_unrewritable_fod_is_reported_not_fetched(demo):
    root, graph, fods, copy = _load(demo, 0)
    plan = plan_fetch(
        [root], graph.derivations, frozenset(), read_item=_missing, do_rewrite=True, order=fods
    )
    failed = plan.of(PlanState.UNFETCHABLE)
    assert failed and all(e.reason for e in failed)
    assert not {e.drv_path for e in failed} & {j.drv_path for j in plan.jobs()}


def _missing(path):
    # No mirror list, no builder script: nothing to rewrite from.
    raise MissingStoreItem(path)


def test_staging_in_the_embedded_store_adds_only_what_is_fetched(demo, tmp_path):
    root, graph, fods, copy = _load(demo, 1)
    plan = _rewrite_plan(root, graph, fods, copy)
    store = EmbeddedStore(tmp_path / "store", read_only=[copy])
    stage_plan(store, plan)
    staged = {i.path for e in plan.of(PlanState.REWRITTEN) for i in e.items}
    assert store.query_valid(staged) == staged
    unneeded = {e.drv_path for e in plan.of(PlanState.UNNEEDED)}
    assert unneeded and not store.query_valid(unneeded)


def test_staging_for_the_guix_daemon_registers_only_what_it_can_build(demo, guix_standin, tmp_path):
    """recordings/23-stage-plan-N (live Guix 2022): one probe session, one query,
    one session adding the builtin:download forms; the others are only staged."""
    skip_recording_without_live_guix()
    root, graph, fods, copy = _load(demo, 1)
    plan = _rewrite_plan(root, graph, fods, copy)
    store = GuixStore(read_only=[copy], env=guix_standin.sequence_env("23-stage-plan", tmp_path))
    stage_plan(store, plan)
    rewritten = plan.of(PlanState.REWRITTEN)
    by_daemon = [e for e in rewritten if e.derivation.builder == "builtin:download"]
    others = [e for e in rewritten if e.derivation.builder != "builtin:download"]
    assert by_daemon and others
    assert store.query_valid(e.job_drv for e in rewritten) == {e.job_drv for e in by_daemon}
    for entry in others:  # readable by guix-revive's builders, unknown to the daemon
        assert store.read_derivation(entry.job_drv) == entry.derivation


def test_an_original_that_cannot_be_imported_does_not_stop_staging(demo, guix_standin, tmp_path):
    """The original .drv files are in no copy this store reads: staging goes
    on without them (each build then reports its own missing input)."""
    root, graph, fods, copy = _load(demo, 0)
    plan = plan_fetch(
        [root], graph.derivations, frozenset(), read_item=copy.read_bytes, do_rewrite=False
    )
    store = GuixStore(read_only=[], env=guix_standin.env())
    stage_plan(store, plan)  # no exception
    assert guix_standin.calls() == []  # nothing to add: no rewritten form
