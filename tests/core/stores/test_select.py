"""Backend selection, and fetching many FODs at once."""

from __future__ import annotations

from revive.core.fetch.spec import UrlFetch
from revive.core.stores.batch import FetchJob, OutcomeStatus, fetch_many
from revive.core.stores.embedded import EmbeddedStore
from revive.core.stores.guix import GuixStore
from revive.core.stores.select import choose_backend, open_store


def test_auto_picks_guix_only_when_installed(guix_standin, tmp_path):
    assert choose_backend("auto", {"PATH": str(tmp_path)}) == "embedded"
    assert choose_backend("auto", guix_standin.env()) == "guix"
    assert choose_backend("embedded", guix_standin.env()) == "embedded"
    assert isinstance(
        open_store("auto", root=tmp_path / "s", env={"PATH": str(tmp_path)}), EmbeddedStore
    )
    assert isinstance(open_store("auto", env=guix_standin.env()), GuixStore)


def test_forcing_guix_without_guix_is_an_error(tmp_path):
    import pytest

    from revive.core.errors import ReviveError

    with pytest.raises(ReviveError) as info:
        open_store("guix", env={"PATH": str(tmp_path)})
    assert str(info.value) == "--backend guix: no guix program on PATH"


async def test_fetch_many_skips_valid_outputs(
    tmp_path, store_copy, http_server, expected_for, options
):
    specs = []
    for i in range(5):
        data = f"file {i}\n".encode()
        http_server.files[f"/f{i}"] = data
        specs.append(UrlFetch(expected_for(f"f{i}", data=data), (http_server.url(f"/f{i}"),)))
    bad = UrlFetch(expected_for("gone", data=b"x"), (http_server.url("/gone"),))
    jobs = [
        FetchJob(store_copy.add_spec(s), s.expected.output_path, s.expected.name)
        for s in [*specs, bad]
    ]
    store = EmbeddedStore(tmp_path / "s", read_only=[store_copy.root], options=options())
    skipped = []
    first = await fetch_many(store, jobs[:2], concurrency=2)
    assert [o.status for o in first] == [OutcomeStatus.FETCHED] * 2
    events = []
    outcomes = await fetch_many(
        store, jobs, concurrency=3, on_event=events.append, on_skip=skipped.append
    )
    assert [o.status for o in outcomes] == [OutcomeStatus.VALID] * 2 + [
        OutcomeStatus.FETCHED
    ] * 3 + [OutcomeStatus.FAILED]
    assert outcomes[-1].reason == "not found"
    assert skipped == jobs[:2]
    assert {e.drv_path for e in events} == {j.drv_path for j in jobs[2:]}
