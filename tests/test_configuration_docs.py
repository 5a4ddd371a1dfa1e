"""docs/configuration.md documents every environment variable Vigil reads."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def variables_read_by_the_code() -> set[str]:
    names: set[str] = set()
    pattern = re.compile(r"""env_(?:str|bool|int|list|choice)\(\s*["']([A-Z0-9_]+)["']""")
    for path in (ROOT / "vigil").rglob("*.py"):
        if "tests" in path.parts or path.name == "settings_test.py":
            continue
        names.update(pattern.findall(path.read_text(encoding="utf-8")))
    names.add("DATABASE_URL")
    return names


def test_every_environment_variable_is_documented():
    doc = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    undocumented = sorted(name for name in variables_read_by_the_code() if f"`{name}`" not in doc)
    assert undocumented == []
