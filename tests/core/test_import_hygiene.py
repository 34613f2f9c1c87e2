"""``revive.core`` never imports Textual or Rich (style §10: the core stays headless).

Checked in a fresh interpreter, where nothing else has imported them yet.
"""

from __future__ import annotations

import json
import subprocess
import sys

SCRIPT = """
import importlib, json, pkgutil, sys
import revive.core
names = ["revive.core"]
for info in pkgutil.walk_packages(revive.core.__path__, "revive.core."):
    names.append(info.name)
for name in names:
    importlib.import_module(name)
print(json.dumps({
    "modules": names,
    "ui": sorted(m for m in sys.modules if m.split(".")[0] in ("textual", "rich")),
}))
"""


def test_core_imports_neither_textual_nor_rich() -> None:
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=False, timeout=120
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    # The walk really reached the modules (not just an empty package).
    for name in ("revive.core.aterm", "revive.core.nar", "revive.core.fetch.spec"):
        assert name in report["modules"]
    assert report["ui"] == []
