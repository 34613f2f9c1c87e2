"""guix-revive's core library: read, verify, rewrite and fetch Guix derivations.

Pure Python, no user interface: nothing here imports Textual or Rich.
"""
