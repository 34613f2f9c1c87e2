"""The demo environment: a generated past Guix store, and loopback servers for it.

:func:`~revive.core.demo.generate.generate_demo` writes the store and its
upstream sources; :class:`~revive.core.demo.serve.DemoServers` serves those
sources on 127.0.0.1 for ``--demo-serve``.
"""
