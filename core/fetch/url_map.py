"""A user's map of moved upstreams: old URL → where the project lives now.

When an upstream moves (a git repository from one forge to another), no
mirror knows the new place; only the user does. A URL map tells the rewrite
to fetch from the new location instead. The output path does not change (it
depends only on the expected hash), so whatever the new place serves is
still checked against the hash the old derivation fixed: a wrong map gives a
hash mismatch, never a wrong source.

The file format, one rule per line::

    # comment
    https://gitlab.com/kopi-project/kopi.git  https://codeberg.org/kopi-project/kopi.git
    https://old.example.org/pub/               https://new.example.org/archive/

Two fields separated by blanks: the old URL and the new one. An old URL
ending in ``/`` is a prefix: every URL starting with it is moved, keeping
the rest (the new one must then end in ``/`` too). An exact rule wins over
a prefix, a longer prefix over a shorter one. For CVS the rule applies to
the CVS root. Blank lines and lines starting with ``#`` are ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from revive.core.errors import ParseError, ReviveError
from revive.core.fetch.spec import CvsFetch, FetchSpec, UrlFetch

__all__ = [
    "UrlMapError",
    "UrlRule",
    "UrlMap",
    "UrlOverride",
    "parse_url_map",
    "read_url_map",
    "apply_url_map",
]


class UrlMapError(ParseError):
    """A URL map file that cannot be read, located at ``file:line:column``."""


@dataclass(frozen=True, slots=True)
class UrlRule:
    """One rule of a URL map: ``old`` (a URL, or a prefix ending in ``/``) → ``new``."""

    old: str
    """The URL (or prefix) the derivation names."""
    new: str
    """Where to fetch from instead."""
    origin: str = ""
    """Where the rule comes from (``file:line``, or ``""`` when given in the app)."""

    @property
    def prefix(self) -> bool:
        """True for a prefix rule (``old`` ends with ``/``)."""
        return self.old.endswith("/")


@dataclass(frozen=True, slots=True)
class UrlOverride:
    """One URL a rewrite changed because of the user's map."""

    old: str
    """The URL the derivation names."""
    new: str
    """The URL written instead."""
    origin: str = ""
    """The rule's origin (see :attr:`UrlRule.origin`)."""


@dataclass(frozen=True, slots=True)
class UrlMap:
    """The user's URL rules (empty: nothing is moved)."""

    rules: tuple[UrlRule, ...] = ()
    """The rules, in file order (their order does not matter: see :meth:`lookup`)."""

    def __bool__(self) -> bool:
        return bool(self.rules)

    def lookup(self, url: str) -> tuple[str, UrlRule] | None:
        """The new URL for ``url`` and the rule that gave it, or ``None``.

        An exact rule wins over a prefix rule, a longer prefix over a shorter one.
        """
        best: UrlRule | None = None
        for rule in self.rules:
            if rule.old == url:
                return rule.new, rule
            if rule.prefix and url.startswith(rule.old):
                if best is None or len(rule.old) > len(best.old):
                    best = rule
        if best is None:
            return None
        return best.new + url[len(best.old) :], best

    def with_rule(self, old: str, new: str, origin: str = "") -> UrlMap:
        """This map with ``old`` → ``new`` added (replacing a rule for the same ``old``).

        Raises:
            ReviveError: one of the two is empty, contains a blank, or a prefix
                rule's new URL does not end with ``/``.
        """
        _check_rule(old, new)
        kept = tuple(rule for rule in self.rules if rule.old != old)
        return UrlMap((*kept, UrlRule(old, new, origin)))


def _check_rule(old: str, new: str) -> None:
    for what, value in (("old", old), ("new", new)):
        if not value:
            raise ReviveError(f"the {what} URL is empty")
        if any(c.isspace() for c in value):
            raise ReviveError(f"the {what} URL contains a blank: {value!r}")
    if old == new:
        raise ReviveError(f"{old} is mapped to itself")
    if old.endswith("/") and not new.endswith("/"):
        raise ReviveError(f"{old} is a prefix (it ends with '/'), so {new} must end with '/' too")


def parse_url_map(text: str, source: str) -> UrlMap:
    """Read the rules of a URL map file's ``text`` (``source`` names it in errors).

    Raises:
        UrlMapError: a line that is not two fields, a bad rule, or an old URL
            given twice; located at ``source:line:column``.
    """
    rules: list[UrlRule] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        column = len(line) - len(line.lstrip()) + 1
        fields = stripped.split()
        if len(fields) != 2:
            found = "one field" if len(fields) == 1 else f"{len(fields)} fields"
            raise UrlMapError(
                f"expected two fields, OLD-URL NEW-URL; found {found}", source, number, column
            )
        old, new = fields
        if old in seen:
            raise UrlMapError(
                f"{old} is already mapped on line {seen[old]}", source, number, column
            )
        try:
            _check_rule(old, new)
        except ReviveError as error:
            raise UrlMapError(str(error), source, number, column) from None
        seen[old] = number
        rules.append(UrlRule(old, new, f"{source}:{number}"))
    return UrlMap(tuple(rules))


def read_url_map(path: str | Path) -> UrlMap:
    """Read the URL map file at ``path``.

    Raises:
        UrlMapError: the file cannot be read, is not UTF-8, or has a bad line.
    """
    name = str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise UrlMapError(f"cannot read the URL map: {error.strerror}", name) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise UrlMapError("not UTF-8 text", name, line) from None
    return parse_url_map(text, name)


def apply_url_map(spec: FetchSpec, url_map: UrlMap) -> tuple[FetchSpec, tuple[UrlOverride, ...]]:
    """``spec`` fetching from the new locations ``url_map`` gives, and what changed.

    Only where the source is named changes (URLs, repository, CVS root); the
    expected hash and output path stay, so the result is still checked.
    """
    if not url_map:
        return spec, ()
    overrides: list[UrlOverride] = []

    def moved(url: str) -> str:
        found = url_map.lookup(url)
        if found is None:
            return url
        new, rule = found
        overrides.append(UrlOverride(url, new, rule.origin))
        return new

    changed: FetchSpec
    if isinstance(spec, UrlFetch):
        changed = replace(spec, urls=tuple(moved(url) for url in spec.urls))
    elif isinstance(spec, CvsFetch):
        changed = replace(spec, root=moved(spec.root))
    else:
        changed = replace(spec, url=moved(spec.url))
    if not overrides:
        return spec, ()
    return changed, tuple(overrides)
