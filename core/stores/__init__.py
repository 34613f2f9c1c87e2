"""Stores: where items live and derivations are built.

:mod:`~revive.core.stores.api` defines the :class:`~revive.core.stores.api.Store`
protocol and the build events; :mod:`~revive.core.stores.embedded` is
guix-revive's own store, :mod:`~revive.core.stores.guix` drives a Guix
daemon through the ``guix`` command, and :mod:`~revive.core.stores.select`
picks one.
"""
