"""No lost config update: every writer (the CLI, the tray's Settings) edits under one exclusive
lock; a config that is not a regular file, is nested absurdly deep or cannot be written is one
line and exit 64, never a hang or a traceback."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from codexbar.config import ConfigFile
from codexbar.paths import exclusive_lock
from codexbar.tray.prefs import SettingsChange, apply_change
from tests.conftest import TEST_KEY, CliRunner, Home, derived_key, run_cli

WRITERS = 20
CONFIG = (sys.executable, "-m", "codexbar", "config")


def _accounts(home: Home) -> dict[str, str]:
    (entry,) = home.read_config()["providers"]
    return {a["label"]: a["token"] for a in entry["tokenAccounts"]["accounts"]}


def _one_line(stderr: str) -> str:
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


def test_twenty_concurrent_writers_leave_twenty_accounts(home: Home) -> None:
    keys = {f"A{i}": derived_key(f"concurrent writer {i}") for i in range(WRITERS)}
    procs = [
        subprocess.Popen(
            [*CONFIG, "set-api-key", "--account", label, "--stdin"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for label in keys
    ]
    # Release them all at once: each has started and waits on stdin.
    for proc, key in zip(procs, keys.values(), strict=True):
        assert proc.stdin is not None
        proc.stdin.write(key)
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.close()
    results = [(proc.wait(timeout=120), proc.stdout, proc.stderr) for proc in procs]
    for code, out, err in results:
        assert out is not None and err is not None
        assert code == 0, err.read()
        assert out.read().startswith("Config: stored API key for OpenRouter account ")
    assert _accounts(home) == keys


def test_cli_and_tray_writers_keep_each_others_changes(home: Home) -> None:
    """Set-api-key processes, enable/disable and the tray's Settings save, all at once."""
    keys = {f"B{i}": derived_key(f"mixed writer {i}") for i in range(6)}
    procs = [
        subprocess.Popen(
            [*CONFIG, "set-api-key", "--no-enable", "--account", label, "--api-key", key],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for label, key in keys.items()
    ]
    procs.append(
        subprocess.Popen(
            [*CONFIG, "disable", "openrouter"],
            stdout=subprocess.DEVNULL,
        )
    )
    tray_key = derived_key("tray writer")
    errors: list[BaseException] = []

    def tray() -> None:
        try:
            apply_change(SettingsChange(admin_key=tray_key, refresh_minutes=7))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    thread = threading.Thread(target=tray)
    thread.start()
    assert [p.wait(timeout=120) for p in procs] == [0] * len(procs)
    thread.join(60)
    assert errors == []
    data = home.read_config()
    assert _accounts(home) == keys
    (entry,) = data["providers"]
    assert entry["pluginSecrets"]["OPENROUTER_MANAGEMENT_API_KEY"] == tray_key
    assert entry["enabled"] is False
    assert home.read_settings()["tray"]["refreshMinutes"] == 7


def test_a_writer_waits_for_the_lock_holder(home: Home, cli: CliRunner) -> None:
    home.write_config({"version": 1, "providers": [], "mine": "kept"})
    with exclusive_lock(home.config_path):
        done = threading.Event()

        def write() -> None:
            run_cli(["config", "set-api-key", "--stdin"], stdin=TEST_KEY)
            done.set()

        writer = threading.Thread(target=write)
        writer.start()
        time.sleep(1.5)
        assert not done.is_set(), "the writer went ahead while the lock was held"
        # The holder's own read-modify-write still lands...
        config = ConfigFile.load()
        config.data["holder"] = True
        config.save()
    writer.join(30)
    assert done.is_set()
    # ... and the waiting writer re-read the file under the lock: both changes are there.
    data = home.read_config()
    assert data["holder"] is True and data["mine"] == "kept"
    assert data["providers"][0]["apiKey"] == TEST_KEY


# --- what a config path may be -----------------------------------------------------------------


def _irregular(kind: str, tmp_path: Path) -> Path:
    if kind == "fifo":
        path = tmp_path / "config.fifo"
        os.mkfifo(path)
        return path
    if kind == "device":
        return Path("/dev/zero")
    path = tmp_path / "config.d"
    path.mkdir()
    return path


@pytest.mark.parametrize("kind", ["fifo", "device", "folder"])
@pytest.mark.parametrize(
    ("args", "stdin"),
    [
        (["-p", "or"], None),
        (["--format", "waybar"], None),
        (["config", "dump"], None),
        (["config", "validate"], None),
        (["config", "set-api-key", "--stdin"], TEST_KEY),
        (["config", "enable", "or"], None),
        (["config", "remove-api-key"], None),
    ],
)
def test_a_config_that_is_not_a_regular_file_is_refused(
    kind: str, args: list[str], stdin: str | None, tmp_path: Path
) -> None:
    if kind == "device" and not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero here")
    path = _irregular(kind, tmp_path)
    started = time.monotonic()
    run = run_cli(args, env={"CODEXBAR_CONFIG": str(path)}, stdin=stdin, timeout=20)
    assert time.monotonic() - started < 15
    assert run.code == 64, run.stderr
    assert "not a regular file" in _one_line(run.stderr)
    assert str(path) in run.stderr
    assert not Path(f"{path}.lock").exists() or kind == "folder"


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ('{"providers": ' * 50_000, "nested too deeply"),
        ("\xff\xfe{}", "not UTF-8"),
        ('{"version": 1,}', "not valid JSON (line 1, column 15"),
    ],
)
@pytest.mark.parametrize("args", [["-p", "or"], ["config", "enable", "or"]])
@pytest.mark.foreign_config("hostile documents, never rewritten")
def test_a_hostile_config_document_is_one_line(
    content: str, says: str, args: list[str], home: Home
) -> None:
    home.config_path.parent.mkdir(parents=True)
    home.config_path.write_bytes(content.encode("latin-1" if "\xff" in content else "utf-8"))
    before = home.config_path.read_bytes()
    run = run_cli(args)
    assert run.code == 64
    assert says in _one_line(run.stderr)
    assert home.config_path.read_bytes() == before  # never overwritten


def test_a_utf8_bom_is_accepted(home: Home, cli: CliRunner) -> None:
    home.config_path.parent.mkdir(parents=True)
    home.config_path.write_bytes(b'\xef\xbb\xbf{"version": 1, "providers": []}')
    assert cli("config", "enable", "or").code == 0
    assert home.read_config()["providers"] == [{"enabled": True, "id": "openrouter"}]


# --- a config that cannot be written --------------------------------------------------------


def test_a_read_only_config_folder_is_one_line(home: Home) -> None:
    if os.geteuid() == 0:
        pytest.skip("root ignores file permissions; see the ENOTDIR and ENOSPC tests")
    home.write_config({"version": 1, "providers": []})
    folder = home.config_path.parent
    folder.chmod(0o500)
    try:
        run = run_cli(["config", "set-api-key", "--stdin"], stdin=TEST_KEY)
    finally:
        folder.chmod(0o700)
    assert run.code == 64
    assert _one_line(run.stderr) == f"Error: cannot write {home.config_path}: Permission denied"


@pytest.mark.parametrize("args", [["config", "set-api-key", "--stdin"], ["config", "enable", "or"]])
def test_a_config_folder_that_is_a_file_is_one_line(args: list[str], tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where a folder must be")
    target = blocker / "codexbar" / "config.json"
    run = run_cli(args, env={"CODEXBAR_CONFIG": str(target)}, stdin=TEST_KEY)
    assert run.code == 64
    line = _one_line(run.stderr)
    assert line.startswith(f"Error: cannot write {target}: ")
    assert line.endswith(os.strerror(errno.ENOTDIR))


def test_a_full_disk_is_one_line_and_keeps_the_old_file(
    home: Home, cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    home.write_config({"version": 1, "providers": [], "mine": "kept"})
    before = home.config_path.read_bytes()

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)  # the stdlib, under our atomic write
    run = cli("config", "set-api-key", "--stdin", stdin=TEST_KEY)
    assert run.code == 64 and run.stdout == ""
    assert _one_line(run.stderr) == (
        f"Error: cannot write {home.config_path}: {os.strerror(errno.ENOSPC)}"
    )
    assert home.config_path.read_bytes() == before
    leftovers = {p.name for p in home.config_path.parent.iterdir()}
    assert leftovers <= {"config.json", "config.json.lock"}


def test_tray_settings_save_on_a_full_disk_is_a_config_error(
    home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    from codexbar.errors import ConfigError

    home.write_config({"version": 1, "providers": []})

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(ConfigError, match=r"cannot write .*: No space left on device"):
        apply_change(SettingsChange(refresh_minutes=5))


# --- --api-key stays, with a warning ------------------------------------------------------------


def test_api_key_flag_warns_that_argv_is_public(cli: CliRunner, home: Home) -> None:
    run = cli("config", "set-api-key", "--api-key", TEST_KEY)
    assert run.code == 0
    warning = _one_line(run.stderr)
    assert "process list" in warning and "--stdin" in warning
    assert TEST_KEY not in run.stderr + run.stdout
    assert home.read_config()["providers"][0]["apiKey"] == TEST_KEY
    quiet = cli("config", "set-api-key", "--stdin", stdin=TEST_KEY)
    assert (quiet.code, quiet.stderr) == (0, "")


def test_nothing_to_change_writes_nothing(cli: CliRunner, home: Home) -> None:
    assert cli("config", "remove-api-key").stdout == "Nothing to remove.\n"
    assert not home.config_path.exists()
    home.write_config('{"providers": [], "version": 1}')
    stamp = home.config_path.stat().st_mtime_ns
    text = home.config_path.read_text()
    assert cli("config", "remove-api-key").code == 0
    assert home.config_path.read_text() == text and home.config_path.stat().st_mtime_ns == stamp
    assert json.loads(text) == {"providers": [], "version": 1}


def test_undecodable_label_or_key_bytes_are_a_usage_error(home: Home) -> None:
    """argv and stdin bytes that are not UTF-8 arrive as lone surrogates: refused, one line."""
    env = {**os.environ, "LC_ALL": "C.UTF-8", "PYTHONIOENCODING": "utf-8:surrogateescape"}
    base = [os.fsencode(sys.executable), b"-m", b"codexbar", b"config", b"set-api-key"]
    label = subprocess.run(
        [*base, b"--account", b"bad\xff", b"--stdin"],
        input=TEST_KEY.encode(),
        capture_output=True,
        env=env,
        timeout=30,
        check=False,
    )
    key = subprocess.run(
        [*base, b"--stdin"],
        input=b"sk-or-v1-\xff\xfe" + b"a" * 40,
        capture_output=True,
        env=env,
        timeout=30,
        check=False,
    )
    for proc in (label, key):
        assert proc.returncode == 64
        _one_line(proc.stderr.decode("utf-8", "replace"))
    assert not home.config_path.exists()
