"""Packaging: one version, the licence, the changelog, the man page, and installs that work.

The quick checks always run. The slow ones build the sdist and wheel once (`python -m build`),
install the wheel with no extras into a fresh venv and run it, and run every install line of
the README; they run in CI (CI=true) and skip elsewhere unless CODEXBAR_PACKAGING=1, since they
take a minute or two and reach the package index.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

import codexbar
from codexbar.commands._tree import full_parser, walk
from codexbar.manpage import release_date, render, same_page

ROOT = Path(__file__).resolve().parent.parent
VERSION = codexbar.__version__
README = ROOT / "README.md"
# Caches live under the real home: the `home` fixture gives every test a new, empty one.
REAL_HOME = Path(os.environ.get("HOME") or Path.home())
SLOW = bool(os.environ.get("CI") or os.environ.get("CODEXBAR_PACKAGING"))
slow = pytest.mark.skipif(
    not SLOW, reason="builds and installs (1-2 min): runs in CI or with CODEXBAR_PACKAGING=1"
)
INSTALLERS = ("pip install ", "pipx install ", "uv tool install ")


def pyproject() -> dict[str, object]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


@dataclass(frozen=True)
class InstallLine:
    text: str  # as the README shows it, comment included
    argv: list[str]  # the command, comment dropped

    @property
    def published(self) -> bool:
        """An index form (`codexbar[serve]`): it says it needs a release on PyPI."""
        return "once published" in self.text


def install_lines() -> list[InstallLine]:
    """Every install command in the README's shell blocks, each once."""
    lines: dict[str, InstallLine] = {}
    in_block = False
    for raw in README.read_text(encoding="utf-8").splitlines():
        if raw.startswith("```"):
            in_block = raw.strip() in ("```sh", "```shell", "```bash")
            continue
        if in_block and raw.startswith(INSTALLERS):
            argv = shlex.split(raw, comments=True)
            lines.setdefault(" ".join(argv), InstallLine(raw, argv))
    return list(lines.values())


# Quick checks --------------------------------------------------------------------------------


def test_the_version_lives_in_the_package_only() -> None:
    project = pyproject()["project"]
    assert isinstance(project, dict)
    assert "version" not in project and project["dynamic"] == ["version"]
    tool = pyproject()["tool"]
    assert isinstance(tool, dict)
    assert tool["setuptools"]["dynamic"]["version"] == {"attr": "codexbar.__version__"}
    # setuptools reads the attribute without importing the package when it is a plain string
    # assignment; keep it one (and keep `import codexbar` free of imports).
    source = (ROOT / "src" / "codexbar" / "__init__.py").read_text(encoding="utf-8")
    assert re.search(rf'^__version__ = "{re.escape(VERSION)}"$', source, re.M)
    assert "import" not in source
    assert re.fullmatch(r"\d+\.\d+\.\d+", VERSION)


def test_the_licence_file_is_the_one_the_metadata_names() -> None:
    project = pyproject()["project"]
    assert isinstance(project, dict)
    assert project["license"] == "MIT" and project["license-files"] == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License\n\nCopyright (c) ")
    assert "codexbar contributors" in text.splitlines()[2]
    assert 'THE SOFTWARE IS PROVIDED "AS IS"' in text


def test_the_changelog_has_this_version_and_an_unreleased_section() -> None:
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    headings = re.findall(r"^## \[([^\]]+)\]", text, re.M)
    assert headings[0] == "Unreleased"
    assert VERSION in headings
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", release_date(text, VERSION))
    with pytest.raises(ValueError, match=re.escape("no '## [9.9.9] - YYYY-MM-DD' heading")):
        release_date(text, "9.9.9")


def test_the_committed_man_page_is_what_the_parsers_give() -> None:
    """Fails when a command, flag or help text changed without `./dev man`."""
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    fresh = render(VERSION, release_date(changelog, VERSION))
    committed = (ROOT / "docs" / "codexbar.1").read_text(encoding="utf-8")
    assert same_page(committed, fresh), "docs/codexbar.1 is stale: run ./dev man"
    assert committed.startswith('.TH CODEXBAR "1" ')
    assert f'"codexbar {VERSION}"' in committed.splitlines()[0]


def test_the_man_page_documents_every_command_and_flag() -> None:
    page = (ROOT / "docs" / "codexbar.1").read_text(encoding="utf-8").replace("\\-", "-")
    for parser in walk(full_parser(with_usage=False)):
        assert f"usage: {parser.prog}" in page or parser.prog == "codexbar", parser.prog
        for action in parser._actions:
            for option in action.option_strings:
                if option not in ("-h", "--help"):
                    assert option in page, (parser.prog, option)
    for section in ("ENVIRONMENT", "exit codes", "OPENROUTER_API_KEY"):
        assert section.lower() in page.lower()


def test_differences_in_line_wrapping_do_not_make_the_page_stale() -> None:
    assert same_page("a b\n  c\n", "a\nb c")
    assert not same_page("a b c", "a b d")


def test_every_readme_install_line_is_one_ci_knows_how_to_run() -> None:
    lines = install_lines()
    texts = [" ".join(line.argv) for line in lines]
    assert texts == [
        "pipx install .",
        "uv tool install .",
        "pip install .[serve]",
        "pip install codexbar[serve]",
        "pip install .[tray]",
    ]
    for line in lines:
        source = line.argv[-1]
        # From the clone, or marked as needing a release: never an index form that fails today.
        assert source.startswith(".") or line.published, line.text


# Slow: build once, install, run --------------------------------------------------------------


@dataclass(frozen=True)
class Dist:
    project: Path  # a copy of the checkout: builds write into it
    sdist: Path
    wheel: Path


def base_env(**extra: str) -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("PIP_REQUIRE_VIRTUALENV", "VIRTUAL_ENV", "PYTHONPATH"))
    }
    env.update(
        PIP_CACHE_DIR=str(REAL_HOME / ".cache" / "pip"),
        UV_CACHE_DIR=str(REAL_HOME / ".cache" / "uv"),
        UV_PYTHON_DOWNLOADS="never",
        PIP_DISABLE_PIP_VERSION_CHECK="1",
    )
    env.update(extra)
    return env


def run(
    argv: list[str], *, cwd: Path | None = None, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        argv,
        cwd=cwd,
        env=dict(env) if env is not None else base_env(),
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=400,
        check=False,
    )
    assert proc.returncode == 0, f"{shlex.join(argv)}\n{proc.stdout}\n{proc.stderr}"
    return proc


def project_copy(dest: Path) -> Path:
    """The checkout without its venv, VCS and build leftovers (a stale build/ would leak
    deleted modules into the wheel)."""
    skip = shutil.ignore_patterns(
        ".venv", ".git", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", ".hypothesis"
    )
    shutil.copytree(ROOT, dest, ignore=skip)
    return dest


@pytest.fixture(scope="session")
def dist(tmp_path_factory: pytest.TempPathFactory, tools: Path) -> Dist:
    """The sdist, and the wheel built from it, as `python -m build` makes them (its isolated
    build environments set up by uv: half the time of pip's)."""
    base = tmp_path_factory.mktemp("dist")
    project = project_copy(base / "project")
    out = base / "out"
    env = base_env(PATH=f"{tools}{os.pathsep}{os.environ['PATH']}")
    build = [sys.executable, "-m", "build", "--installer", "uv", "--outdir", str(out)]
    run([*build, str(project)], env=env)
    [sdist] = out.glob("*.tar.gz")
    [wheel] = out.glob("*.whl")
    return Dist(project, sdist, wheel)


def bare_venv(path: Path) -> Path:
    """A venv without pip of its own (0.3 s instead of 8): our pip installs into it."""
    run([sys.executable, "-m", "venv", "--without-pip", str(path)])
    return path / "bin" / "python"


def pip_into(python: Path, *args: str, cwd: Path | None = None) -> None:
    run([sys.executable, "-m", "pip", "--python", str(python), *args], cwd=cwd)


@pytest.fixture(scope="session")
def tools(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """pipx and uv, from the package index, in a venv of their own."""
    python = bare_venv(tmp_path_factory.mktemp("tools") / "venv")
    pip_into(python, "install", "-q", "pipx", "uv")
    return python.parent


@slow
@pytest.mark.timeout(600)  # the first user of `dist` builds it
def test_the_wheel_holds_the_package_the_man_page_and_the_licence(dist: Dist) -> None:
    names = zipfile.ZipFile(dist.wheel).namelist()
    data = f"codexbar-{VERSION}.data/data/"
    info = f"codexbar-{VERSION}.dist-info/"
    assert dist.wheel.name == f"codexbar-{VERSION}-py3-none-any.whl"
    for name in (
        "codexbar/__init__.py",
        "codexbar/py.typed",
        "codexbar/commands/completion.py",
        "codexbar/providers/openrouter/sample_data.py",  # --demo needs it
        f"{data}share/man/man1/codexbar.1",
        f"{info}licenses/LICENSE",
        f"{info}entry_points.txt",
    ):
        assert name in names, name
    assert not [n for n in names if n.startswith(("tests/", "benchmarks/", "docs/"))]
    with zipfile.ZipFile(dist.wheel) as wheel:
        page = wheel.read(f"{data}share/man/man1/codexbar.1")
        meta = wheel.read(f"{info}METADATA").decode()
        entry = wheel.read(f"{info}entry_points.txt").decode()
    assert page == (ROOT / "docs" / "codexbar.1").read_bytes()
    assert f"\nVersion: {VERSION}\n" in meta and "\nLicense-Expression: MIT\n" in meta
    assert "\nRequires-Dist: shtab" in meta
    assert "codexbar = codexbar.cli:main" in entry
    sdist = subprocess.run(
        ["tar", "tzf", str(dist.sdist)], capture_output=True, text=True, check=True
    ).stdout.split()
    top = f"codexbar-{VERSION}/"
    for name in ("CHANGELOG.md", "LICENSE", "docs/codexbar.1", "tests/conftest.py", "dev"):
        assert top + name in sdist, name


@slow
@pytest.mark.timeout(600)
def test_the_wheel_without_extras_runs_in_a_fresh_venv(dist: Dist, tmp_path: Path) -> None:
    """As a user would: a venv with its own pip, the wheel with no extras."""
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", str(venv)])
    bin_ = venv / "bin"
    run([str(bin_ / "python"), "-m", "pip", "install", "-q", str(dist.wheel)])
    env = base_env(PATH=f"{bin_}{os.pathsep}{os.environ['PATH']}")
    codexbar_ = str(bin_ / "codexbar")

    demo = run([codexbar_, "--demo"], env=env)
    assert "OpenRouter · Demo" in demo.stdout and "Key limit" in demo.stdout
    helped = run([codexbar_, "--help"], env=env)
    assert helped.stdout.startswith("usage: codexbar ") and "completion" in helped.stdout
    assert run([codexbar_, "--version"], env=env).stdout == f"codexbar {VERSION}\n"
    sourced = run(
        ["bash", "-c", "source <(codexbar completion bash) && complete -p codexbar"], env=env
    )
    assert sourced.stdout.rstrip().endswith(" codexbar")
    assert (venv / "share" / "man" / "man1" / "codexbar.1").is_file()
    if shutil.which("man"):  # man-db looks in ../share/man beside each PATH entry
        where = run(["man", "-w", "codexbar"], env=env).stdout.strip()
        assert Path(where) == venv / "share" / "man" / "man1" / "codexbar.1"

    # Without the extra, serve names the command that adds it here; that command works.
    missing = subprocess.run(
        [codexbar_, "serve", "--port", "0"], env=env, capture_output=True, text=True, timeout=60
    )
    assert missing.returncode == 1
    hint = missing.stderr.strip().split("Install it with: ", 1)[1]
    assert hint == f"{bin_ / 'python'} -m pip install '{dist.wheel}[serve]'"
    run([*shlex.split(hint), "-q"], env=env)
    run([str(bin_ / "python"), "-c", "import prometheus_client"], env=env)


def installed_codexbar(line: InstallLine, dist: Dist, tools: Path, tmp_path: Path) -> Path:
    """Run one README install line (from the copy of the checkout, as from a clone) into a
    fresh place of its own; the `codexbar` it installed."""
    cmd, *args = line.argv
    project = dist.project
    if cmd == "pip":
        python = bare_venv(tmp_path / "venv")
        if line.published:
            # What the index will serve is this wheel: let pip find it there.
            args = [*args, "--find-links", str(dist.wheel.parent)]
        pip_into(python, *args, "-q", cwd=project)
        return python.parent / "codexbar"
    if cmd == "pipx":
        env = base_env(
            PIPX_HOME=str(tmp_path / "pipx"),
            PIPX_BIN_DIR=str(tmp_path / "bin"),
            PIPX_MAN_DIR=str(tmp_path / "man"),
        )
        run([str(tools / "pipx"), *args], cwd=project, env=env)
        assert (tmp_path / "man" / "man1" / "codexbar.1").exists()  # pipx links the page
        return tmp_path / "bin" / "codexbar"
    assert cmd == "uv", line.text
    env = base_env(UV_TOOL_DIR=str(tmp_path / "uv"), UV_TOOL_BIN_DIR=str(tmp_path / "bin"))
    run([str(tools / "uv"), *args], cwd=project, env=env)
    return tmp_path / "bin" / "codexbar"


@slow
@pytest.mark.timeout(600)
@pytest.mark.parametrize("line", install_lines(), ids=lambda line: " ".join(line.argv))
def test_every_readme_install_line_installs_a_working_codexbar(
    line: InstallLine, dist: Dist, tools: Path, tmp_path: Path
) -> None:
    program = installed_codexbar(line, dist, tools, tmp_path)
    env = base_env()
    assert run([str(program), "--version"], env=env).stdout == f"codexbar {VERSION}\n"
    run([str(program), "--demo", "--format", "json"], env=env)
    extras = re.findall(r"\[([a-z,]+)\]", line.argv[-1])
    python = program.resolve().parent / "python"
    for extra in ",".join(extras).split(",") if extras else []:
        module = {"serve": "prometheus_client", "tray": "PySide6.QtCore"}[extra]
        run([str(python), "-c", f"import {module}"], env=env)
