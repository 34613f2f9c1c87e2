"""Answers kept between runs: ``$XDG_CACHE_HOME/guix-revive/archive/answers.json``.

An answer is trusted for a while — :attr:`ArchiveConfig.ttl_available`
for "available", :attr:`ArchiveConfig.ttl_missing` for "missing" — and
then asked again; unknown answers (a timeout, a rate limit) are never
kept. ``--refresh`` ignores what is kept (and overwrites it);
``--offline`` uses it even past its lifetime, since an old answer is
better than none when nothing may be asked.

The file is one JSON object keyed by question (a question names its
service's base URL, so answers from a test server never pass for the real
one). :meth:`AnswerCache.save` merges with what another process may have
written meanwhile, and replaces the file atomically (temporary file, then
rename): a reader never sees half a file.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from pathlib import Path
from typing import Final

from revive.core.archive.answer import ProbeAnswer, Status
from revive.core.cache import default_cache_dir

__all__ = ["AnswerCache", "default_answer_cache_path", "FORMAT"]

FORMAT: Final = 1
"""Version of the file's layout; a file of another version is ignored."""


def default_answer_cache_path() -> Path:
    """``$XDG_CACHE_HOME/guix-revive/archive/answers.json``."""
    return default_cache_dir() / "archive" / "answers.json"


class AnswerCache:
    """A persistent map from question to answer, with lifetimes.

    Args:
        path: the file (default :func:`default_answer_cache_path`).
        ttl_available: seconds an "available" answer is trusted.
        ttl_missing: seconds a "missing" answer is trusted.
    """

    def __init__(
        self,
        path: Path | None = None,
        *,
        ttl_available: float = 7 * 86400.0,
        ttl_missing: float = 86400.0,
    ) -> None:
        self.path = path or default_answer_cache_path()
        """Where the answers are kept."""
        self.ttl_available = ttl_available
        self.ttl_missing = ttl_missing
        self._lock = threading.RLock()
        # Read on first use, not here: the app creates its cache on the UI
        # thread, and a big file takes a while to parse.
        self._loaded: dict[str, dict[str, object]] | None = None
        self._dirty: dict[str, dict[str, object]] = {}
        self._parsed: dict[str, ProbeAnswer] = {}

    def __len__(self) -> int:
        return len(self._answers)

    @property
    def _answers(self) -> dict[str, dict[str, object]]:
        if self._loaded is None:
            answers = self._read()
            with self._lock:
                if self._loaded is None:
                    self._loaded = answers
        return self._loaded

    @_answers.setter
    def _answers(self, value: dict[str, dict[str, object]]) -> None:
        self._loaded = value

    def get(
        self, key: str, *, now: float | None = None, stale_ok: bool = False
    ) -> ProbeAnswer | None:
        """The kept answer to ``key`` if it is still trusted (any age if ``stale_ok``)."""
        with self._lock:
            answer = self._parsed.get(key)
            data = self._answers.get(key) if answer is None else None
        if answer is None:
            if data is None:
                return None
            try:
                answer = ProbeAnswer.from_dict(data, cached=True)
            except ValueError:
                return None
            with self._lock:
                self._parsed[key] = answer
        if not stale_ok:
            ttl = self.ttl_available if answer.status is Status.AVAILABLE else self.ttl_missing
            if (time.time() if now is None else now) - answer.checked_at > ttl:
                return None
        return answer

    def put(self, key: str, answer: ProbeAnswer) -> None:
        """Keep ``answer`` (unless it is unknown, which is worth asking again)."""
        if answer.status is Status.UNKNOWN or answer.cached:
            return
        data = answer.to_dict()
        with self._lock:
            self._answers[key] = data
            self._dirty[key] = data
            self._parsed.pop(key, None)

    def save(self) -> None:
        """Write the new answers, merged with the file's current contents, atomically.

        A cache that cannot be written is not an error (the audit's answers
        stand); the next run simply asks again.
        """
        with self._lock:
            if not self._dirty:
                return
            dirty, self._dirty = self._dirty, {}
        merged = self._read()
        merged.update(dirty)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, temp = tempfile.mkstemp(prefix=".answers-", dir=self.path.parent)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as out:
                    # One small dumps per answer rather than one big dump: a
                    # big dump holds the interpreter lock for its whole length,
                    # and the app's UI thread runs beside the audit's.
                    out.write(f'{{"format":{FORMAT},"answers":{{')
                    out.write(
                        ",".join(
                            json.dumps(key) + ":" + json.dumps(value, separators=(",", ":"))
                            for key, value in merged.items()
                        )
                    )
                    out.write("}}")
                os.replace(temp, self.path)
            except BaseException:
                Path(temp).unlink(missing_ok=True)
                raise
        except OSError:
            return
        with self._lock:
            merged.update(self._answers)
            self._answers = merged

    def _read(self) -> dict[str, dict[str, object]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            return {}
        answers = data.get("answers")
        if not isinstance(answers, dict):
            return {}
        return {k: v for k, v in answers.items() if isinstance(k, str) and isinstance(v, dict)}
