"""Archival status of source downloads: can each FOD still be obtained, and from where?

Guix's fallback chain for a download is upstream (and ``mirror://``
mirrors) → content-addressed mirrors → Software Heritage → Disarchive
(which re-assembles a tarball from Software Heritage) → substitute
servers' nars. This package asks each of those places, for every FOD of a
closure, whether it still has the source — cheaply (HEAD or ranged GET,
``git`` ref advertisements, API look-ups, narinfos), concurrently, with
timeouts, retries and a persistent cache of answers — and rolls the
answers up into a report.

Modules: :mod:`.answer` (what a probe says), :mod:`.config` (where to
ask, how hard), :mod:`.http_client` (the asynchronous HTTP client every
web probe shares), :mod:`.cache` (answers kept between runs), one module
per fallback (:mod:`.upstream`, :mod:`.vcs_probe`, :mod:`.ca_mirrors`,
:mod:`.swh`, :mod:`.disarchive`, :mod:`.substitutes`), :mod:`.audit`
(every probe for every FOD) and :mod:`.report` (roll-ups).
"""
