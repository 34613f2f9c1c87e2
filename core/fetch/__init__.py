"""Source downloads: what a fixed-output derivation fetches, and how to fetch it today.

One FOD goes through :mod:`~revive.core.fetch.classify` (its kind, fetch
method and era), :mod:`~revive.core.fetch.extract` (a
:data:`~revive.core.fetch.spec.FetchSpec`, whatever the era) and
:mod:`~revive.core.fetch.rewrite` (today's form, same output path);
:mod:`~revive.core.fetch.closure_rewrite` does a whole closure and proves no
output moved. Old builder scripts are read with
:mod:`~revive.core.fetch.scheme` and :mod:`~revive.core.fetch.script`;
mirror lists and other text items live in :mod:`~revive.core.fetch.mirrors`
and :mod:`~revive.core.fetch.text_item`. Nothing here fetches: that is
:mod:`revive.core.builders`.
"""
