"""``svn-fetch`` and ``svn-multi-fetch``: ``svn export`` of one revision.

As Guix's fetcher runs it (``guix-derivations.md`` §6.4): ``svn export
--non-interactive --trust-server-cert -r REV [--username U --password P]
[--ignore-externals] URL OUT``. An export has no ``.svn`` directories, so
nothing is deleted afterwards. The multi form exports each location below
the URL to the same relative place in the output (a location ending in
``/`` is a directory, any other a single file).
"""

from __future__ import annotations

from pathlib import Path

from revive.core.builders.context import BuildContext
from revive.core.builders.process import tool_environment
from revive.core.builders.vcs import fetch_with_fallbacks, run_checked
from revive.core.builders.verify import Verified
from revive.core.fetch.spec import SvnFetch, SvnMultiFetch

__all__ = ["fetch_svn", "fetch_svn_multi", "svn_export_argv"]


def svn_export_argv(
    url: str,
    revision: int,
    dest: Path,
    *,
    recursive: bool,
    user_name: str | None,
    password: str | None,
) -> list[str]:
    """The ``svn export`` command line for one URL."""
    argv = ["svn", "export", "--non-interactive", "--trust-server-cert", "--force"]
    argv += ["-r", str(revision)]
    if user_name:
        argv += ["--username", user_name]
    if password:
        argv += ["--password", password]
    if not recursive:
        argv.append("--ignore-externals")
    return [*argv, url, str(dest)]


def _export_argv(spec: SvnFetch | SvnMultiFetch, url: str, dest: Path) -> list[str]:
    """:func:`svn_export_argv` of ``url`` (below the one of ``spec``) at ``spec``'s revision."""
    return svn_export_argv(
        url,
        spec.revision,
        dest,
        recursive=spec.recursive,
        user_name=spec.user_name,
        password=spec.password,
    )


def _env() -> dict[str, str]:
    # A private, empty configuration directory would be cleaner, but svn's
    # --config-dir also holds the server-certificate cache it needs here.
    return tool_environment()


async def fetch_svn(spec: SvnFetch, ctx: BuildContext) -> Verified:
    """Export ``spec`` and verify it (falling back to nar mirrors).

    Raises:
        FetchError: every source failed.
    """
    url = ctx.rewritten(spec.url)

    async def checkout(dest: Path) -> None:
        await run_checked(ctx, _export_argv(spec, url, dest), url, env=_env())

    return await fetch_with_fallbacks(ctx, spec.expected, url, checkout, spec.method)


async def fetch_svn_multi(spec: SvnMultiFetch, ctx: BuildContext) -> Verified:
    """Export every location of ``spec`` and verify the result.

    Raises:
        FetchError: every source failed.
    """
    url = ctx.rewritten(spec.url)

    async def checkout(dest: Path) -> None:
        dest.mkdir()
        for location in spec.locations:
            relative = location.strip("/")
            target = dest / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            argv = _export_argv(spec, f"{url.rstrip('/')}/{relative}", target)
            await run_checked(ctx, argv, url, env=_env())

    return await fetch_with_fallbacks(ctx, spec.expected, url, checkout, spec.method)
