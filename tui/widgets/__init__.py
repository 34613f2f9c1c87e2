"""The widgets the screens are built from, one per module.

The derivation tree and its badges, the panes showing the selected node (the
derivation, its build log, old against rewritten, its referrers), the list
of every download, the search bar and the actions on a node. Each owns its
key bindings and reports upward with messages.
"""
