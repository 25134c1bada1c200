"""The structure's promises, checked: no module outside providers/ names a provider, the layer
contracts hold, and a provider is one package plus one registry line."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

import codexbar
from codexbar.providers import PROVIDERS, load
from codexbar.providers.base import Provider

PACKAGE = Path(codexbar.__file__).parent


def _python_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.py") if "__pycache__" not in p.parts)


@pytest.mark.parametrize("provider_id", sorted(PROVIDERS))
def test_no_module_outside_providers_names_a_provider(provider_id: str) -> None:
    """Code, strings and comments alike: what is a provider's lives in its package."""
    names = {provider_id, PROVIDERS[provider_id].name}
    pattern = re.compile("|".join(re.escape(n) for n in names), re.IGNORECASE)
    offenders = []
    for path in _python_files(PACKAGE):
        if PACKAGE / "providers" in path.parents:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if pattern.search(line):
                offenders.append(f"{path.relative_to(PACKAGE)}:{number}: {line.strip()}")
    assert offenders == []


def test_every_registered_provider_is_one_package_satisfying_the_protocol() -> None:
    for provider_id, info in PROVIDERS.items():
        package = PACKAGE / "providers" / provider_id
        assert (package / "__init__.py").is_file(), info.module
        provider = load(provider_id)
        assert isinstance(provider, object)
        assert provider.id == provider_id and provider.name == info.name
        for method in Provider.__dict__:
            if not method.startswith("_") and callable(getattr(Provider, method, None)):
                assert callable(getattr(provider, method, None)), (provider_id, method)


def test_no_product_module_imports_the_test_suite() -> None:
    for path in _python_files(PACKAGE):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert not node.module.startswith("tests"), path
            if isinstance(node, ast.Import):
                assert not any(a.name.startswith("tests") for a in node.names), path


def test_the_layer_contracts_hold() -> None:
    """import-linter, as configured in pyproject.toml (also run by ./dev test)."""
    linter = Path(sys.executable).parent / "lint-imports"
    if not linter.exists():
        pytest.skip("import-linter is not installed (pip install '.[dev]')")
    run = subprocess.run(
        [str(linter), "--no-cache"],
        cwd=PACKAGE.parent.parent,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-3000:]
