"""`codexbar completion bash|zsh|fish`: each script loads in its shell and completes what the
parsers accept: every command, subcommand and flag, choices, and provider names."""

from __future__ import annotations

import argparse
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from codexbar.cli import COMMANDS
from codexbar.commands._tree import full_parser, walk
from tests.conftest import CliRunner, run_cli

BASH = shutil.which("bash")
ZSH = shutil.which("zsh")
FISH = shutil.which("fish")
# `codexbar` as this test run has it, for shells that need a program to name.
CODEXBAR = f"{shlex.quote(sys.executable)} -m codexbar"


def script(shell: str, tmp_path: Path) -> Path:
    run = run_cli(["completion", shell])
    assert run.code == 0 and run.stderr == ""
    path = tmp_path / f"codexbar.{shell}"
    path.write_text(run.stdout)
    return path


def every_path() -> list[tuple[list[str], argparse.ArgumentParser]]:
    """(command words, parser) for the root and every (sub)command below it."""
    found: list[tuple[list[str], argparse.ArgumentParser]] = []
    for parser in walk(full_parser()):
        words = parser.prog.split()[1:]
        found.append((words, parser))
    return found


def option_strings(parser: argparse.ArgumentParser) -> set[str]:
    return {opt for action in parser._actions for opt in action.option_strings}


def bash_complete(path: Path, cases: list[list[str]]) -> list[list[str]]:
    """What bash offers for each case (the words typed so far, the last one being completed),
    by calling the function that `complete -p codexbar` names, as readline would."""
    lines = [
        f"source {shlex.quote(str(path))}",
        "fn=$(complete -p codexbar | sed -E 's/.* -F ([^ ]+) .*/\\1/')",
        'ask() { COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); COMP_LINE="$*"; '
        'COMP_POINT=${#COMP_LINE}; COMPREPLY=(); "$fn" codexbar "${COMP_WORDS[COMP_CWORD]}" '
        '"${COMP_WORDS[COMP_CWORD-1]}"; printf "%s\\n" "${COMPREPLY[*]}"; }',
    ]
    lines += ["ask " + " ".join(shlex.quote(word) for word in case) for case in cases]
    assert BASH is not None
    proc = subprocess.run(
        [BASH, "--norc", "--noprofile", "-c", "\n".join(lines)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    return [line.split() for line in proc.stdout.splitlines()]


def test_unknown_shell_is_a_usage_error(cli: CliRunner) -> None:
    run = cli("completion", "tcsh")
    assert run.code == 64
    assert "invalid choice: 'tcsh'" in run.stderr and run.stdout == ""
    assert cli("completion").code == 64


def test_the_command_is_listed_in_help() -> None:
    assert "completion bash|zsh|fish" in run_cli(["--help"]).stdout


def test_shtab_is_imported_by_the_completion_command_only() -> None:
    code = (
        "import sys, contextlib, io, codexbar.cli as c\n"
        "for args in (['--help'], ['completion', '--help'], ['completion', 'bash']):\n"
        "    with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()):\n"
        "        c.main(args)\n"
        "    print('shtab' in sys.modules)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=False
    )
    assert proc.stdout.split() == ["False", "False", "True"], proc.stderr


@pytest.mark.skipif(BASH is None, reason="bash is not installed")
def test_bash_sources_the_script_and_registers_codexbar(tmp_path: Path) -> None:
    assert BASH is not None
    proc = subprocess.run(
        [BASH, "-c", f"source <({CODEXBAR} completion bash) && complete -p codexbar"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("complete ") and proc.stdout.rstrip().endswith(" codexbar")


@pytest.mark.skipif(BASH is None, reason="bash is not installed")
def test_bash_completes_commands_choices_and_providers(tmp_path: Path) -> None:
    path = script("bash", tmp_path)
    cases = {
        ("codexbar", "con"): ["config"],
        ("codexbar", "comp"): ["completion"],
        ("codexbar", "h"): ["history", "hooks"],
        ("codexbar", "-p", ""): [
            "openrouter",
            "or",
            "openai",
            "openai-api",
            "deepseek",
            "deep-seek",
            "ds",
            "litellm",
            "litellm-proxy",
            "all",
        ],
        ("codexbar", "--provider", "o"): ["openrouter", "or", "openai", "openai-api"],
        ("codexbar", "--for"): ["--format"],
        ("codexbar", "--format", "w"): ["waybar"],
        ("codexbar", "--chart", ""): ["day", "week", "month"],
        ("codexbar", "config", ""): [
            "validate",
            "dump",
            "providers",
            "enable",
            "disable",
            "set-api-key",
            "remove-api-key",
            "path",
        ],
        ("codexbar", "config", "set-api-key", "--man"): ["--management"],
        ("codexbar", "config", "set-api-key", "-p", ""): [
            "openrouter",
            "or",
            "openai",
            "openai-api",
            "deepseek",
            "deep-seek",
            "ds",
            "litellm",
            "litellm-proxy",
        ],  # no `all` here
        ("codexbar", "config", "enable", ""): [
            "openrouter",
            "or",
            "openai",
            "openai-api",
            "deepseek",
            "deep-seek",
            "ds",
            "litellm",
            "litellm-proxy",
        ],
        ("codexbar", "cache", ""): ["clear"],
        ("codexbar", "history", ""): ["show", "prune"],
        ("codexbar", "history", "--format", ""): ["text", "json", "csv"],
        ("codexbar", "alerts", "check", "--dr"): ["--dry-run"],
        ("codexbar", "tray", "--panel", ""): ["auto", "dark", "light"],
        ("codexbar", "completion", ""): ["bash", "zsh", "fish"],
        ("codexbar", "guard", "-p", "or", "--max-p"): ["--max-percent"],
    }
    answers = bash_complete(path, [list(case) for case in cases])
    for (case, expected), got in zip(cases.items(), answers, strict=True):
        assert got == expected, case


@pytest.mark.skipif(BASH is None, reason="bash is not installed")
def test_bash_offers_every_command_subcommand_and_flag(tmp_path: Path) -> None:
    """Swept over the parsers themselves: a flag added to any command is checked here."""
    path = script("bash", tmp_path)
    paths = every_path()
    cases = [["codexbar", *words, "-"] for words, _parser in paths]
    cases.append(["codexbar", ""])
    answers = bash_complete(path, cases)
    for (words, parser), got in zip(paths, answers[:-1], strict=True):
        assert set(got) == option_strings(parser), words
    assert answers[-1] == list(COMMANDS)
    subcommands = {
        " ".join(words): sorted(action.choices)
        for words, parser in paths
        for action in parser._actions
        if isinstance(action, argparse._SubParsersAction) and words
    }
    assert subcommands == {
        "config": sorted(
            [
                "set-api-key",
                "remove-api-key",
                "dump",
                "validate",
                "providers",
                "enable",
                "disable",
                "path",
            ]
        ),
        "cache": ["clear"],
        "alerts": ["check", "reset", "show"],
        "hooks": ["disable", "enable", "list", "test", "watch"],
        "keys": ["audit", "disable", "enable", "log", "restore", "set-limit"],
    }
    sub_cases = [["codexbar", *name.split(), ""] for name in subcommands]
    for name, got in zip(subcommands, bash_complete(path, sub_cases), strict=True):
        assert sorted(got) == subcommands[name], name


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_every_script_names_every_command_and_flag(shell: str, tmp_path: Path) -> None:
    """The check that holds without the shell itself."""
    text = script(shell, tmp_path).read_text()
    for name in COMMANDS:
        assert name in text, name
    for words, parser in every_path():
        for option in option_strings(parser):
            bare = option.lstrip("-")
            assert bare in text, (words, option)


@pytest.mark.skipif(ZSH is None, reason="zsh is not installed (Debian: apt-get install zsh)")
def test_zsh_script_parses_and_registers(tmp_path: Path) -> None:
    assert ZSH is not None
    path = script("zsh", tmp_path)
    syntax = subprocess.run([ZSH, "-n", str(path)], capture_output=True, text=True, check=False)
    assert syntax.returncode == 0, syntax.stderr
    registered = subprocess.run(
        [
            ZSH,
            "-fc",
            f"autoload -U compinit && compinit -u -d {tmp_path}/zcompdump && "
            f'eval "$(cat {shlex.quote(str(path))})" && print -r -- $_comps[codexbar]',
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert registered.returncode == 0, registered.stderr
    assert registered.stdout.strip().startswith("_shtab_codexbar")


ZSH_DRIVER = r"""
zmodload zsh/zpty
script=$1 out=$2 dump=$3; shift 3
zpty z zsh -f -i
zpty -w z 'PS1="> "; autoload -U compinit; compinit -u -d '$dump
zpty -w z 'eval "$(<'$script')"'
zpty -w z 'grab() { print -r -- "<$BUFFER>" >> '$out'; BUFFER=; }; zle -N grab; bindkey "^X" grab'
n=0
for line in "$@"; do
  zpty -w -n z "$line"$'\t'
  zpty -w -n z $'\C-x'
  n=$((n + 1))
  # one line at a time: the next is typed only once this one was read back
  for i in {1..100}; do (( $(wc -l < $out) >= n )) && break; sleep 0.1; done
done
zpty -d z
"""


@pytest.mark.skipif(ZSH is None, reason="zsh is not installed (Debian: apt-get install zsh)")
def test_zsh_completes_in_a_real_line_editor(tmp_path: Path) -> None:
    """Typed into an interactive zsh on a pseudo-terminal: TAB, then the line is read back.
    Covers flags a subcommand shares with the root (`--format`), which shtab's own zsh
    script gets wrong without the completion command's fix."""
    assert ZSH is not None
    path = script("zsh", tmp_path)
    out = tmp_path / "lines.txt"
    out.write_text("")
    cases = {
        "codexbar con": "codexbar config ",
        "codexbar keys --format cs": "codexbar keys --format csv ",
        "codexbar history --format js": "codexbar history --format json ",
        "codexbar --format wa": "codexbar --format waybar ",
        "codexbar -p openr": "codexbar -p openrouter ",
        "codexbar config set-api-key --man": "codexbar config set-api-key --management ",
        "codexbar history show --pre": "codexbar history show --pretty ",
    }
    driver = tmp_path / "driver.zsh"
    driver.write_text(ZSH_DRIVER)
    proc = subprocess.run(
        [ZSH, "-f", str(driver), str(path), str(out), str(tmp_path / "dump"), *cases],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    got = [line[1:-1] for line in out.read_text().splitlines()]
    assert got == list(cases.values())


@pytest.mark.skipif(FISH is None, reason="fish is not installed (Debian: apt-get install fish)")
def test_fish_script_parses_and_completes(tmp_path: Path) -> None:
    assert FISH is not None
    path = script("fish", tmp_path)
    syntax = subprocess.run([FISH, "-n", str(path)], capture_output=True, text=True, check=False)
    assert syntax.returncode == 0, syntax.stderr
    cases = {
        "codexbar con": ["config"],
        "codexbar -p ": [
            "openrouter",
            "or",
            "openai",
            "openai-api",
            "deepseek",
            "deep-seek",
            "ds",
            "litellm",
            "litellm-proxy",
            "all",
        ],
        "codexbar config set-api-key -p ": [
            "openrouter",
            "or",
            "openai",
            "openai-api",
            "deepseek",
            "deep-seek",
            "ds",
            "litellm",
            "litellm-proxy",
        ],
        "codexbar history --format ": ["text", "json", "csv"],
        "codexbar alerts check --dr": ["--dry-run"],
        "codexbar completion ": ["bash", "zsh", "fish"],
    }
    commands = [f"source {shlex.quote(str(path))}"]
    for line in cases:
        commands += [f"complete -C {shlex.quote(line)}", "echo ---"]
    proc = subprocess.run(
        [FISH, "--no-config", "-c", "; ".join(commands)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode == 0, proc.stderr
    blocks = proc.stdout.split("---\n")[:-1]
    for (line, expected), block in zip(cases.items(), blocks, strict=True):
        offered = [entry.split("\t")[0] for entry in block.splitlines()]
        assert offered == expected, line
