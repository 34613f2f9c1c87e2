"""guix-revive's own builders: fetch a FOD's content with real tools, verified.

:func:`~revive.core.builders.dispatch.run_builder` takes a
:data:`~revive.core.fetch.spec.FetchSpec` and a
:class:`~revive.core.builders.context.BuildContext`, reports what it does as
build events, and returns a result whose hash matched. Nothing here touches a
store: :mod:`revive.core.stores.embedded` moves the result into place.
"""
