"""The app's screens, each a module with its own ``.tcss``.

:mod:`~revive.tui.screens.graph` is the main screen (the derivation tree and
the details of the selected node); the others open over it: why a node is in
the closure, rewriting a download, fetching many at once, and the keys.
"""
