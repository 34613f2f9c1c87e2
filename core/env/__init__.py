"""Revive a whole environment: lower it, plan every source, act, report.

``guix-revive env`` is built from these modules, one concept each:
:mod:`~revive.core.env.lowering` (run the old Guix to get the root
``.drv`` paths), :mod:`~revive.core.env.roots` (read roots computed
elsewhere), :mod:`~revive.core.env.substitutes` (ask substitute servers for
narinfos), :mod:`~revive.core.env.known_gone` (upstream sites known to be
gone), :mod:`~revive.core.env.plan` (one record per fixed-output derivation
with its state), :mod:`~revive.core.env.act` (fetch what is missing),
:mod:`~revive.core.env.state` (the resumable state file) and
:mod:`~revive.core.env.report` (JSON records and the Markdown report).
"""
