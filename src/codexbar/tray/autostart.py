"""Start at login: an XDG autostart `.desktop` file on Linux/BSD, a LaunchAgent on macOS, a
Startup-folder shortcut on Windows. Each points at this Python running `-m codexbar tray`, so
venv and pipx installs start the same codexbar. No Qt here."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

DESKTOP_NAME = "codexbar-tray.desktop"
AGENT_LABEL = "dev.codexbar.tray"
SHORTCUT_NAME = "CodexBar.lnk"

Runner = Callable[[Sequence[str], Mapping[str, str]], None]


def launch_command(python: str | None = None) -> list[str]:
    """How login starts the tray. On Windows pythonw.exe, so no console window opens."""
    exe = Path(python or sys.executable)
    if os.name == "nt" or exe.name.lower() == "python.exe":
        windowless = exe.with_name("pythonw.exe")
        if windowless.exists():
            exe = windowless
    return [str(exe), "-m", "codexbar", "tray"]


def entry_path(platform: str | None = None, env: Mapping[str, str] | None = None) -> Path:
    platform = platform or sys.platform
    env = os.environ if env is None else env
    home = Path(env.get("HOME") or Path.home())
    if platform == "darwin":
        return home / "Library" / "LaunchAgents" / f"{AGENT_LABEL}.plist"
    if platform.startswith("win"):
        appdata = Path(env.get("APPDATA") or home / "AppData" / "Roaming")
        startup = appdata / "Microsoft" / "Windows" / "Start Menu" / "Programs" / "Startup"
        return startup / SHORTCUT_NAME
    xdg = env.get("XDG_CONFIG_HOME")
    return (Path(xdg) if xdg else home / ".config") / "autostart" / DESKTOP_NAME


def is_enabled(platform: str | None = None, env: Mapping[str, str] | None = None) -> bool:
    return entry_path(platform, env).exists()


def enable(
    command: Sequence[str] | None = None,
    *,
    platform: str | None = None,
    env: Mapping[str, str] | None = None,
    runner: Runner | None = None,
) -> Path:
    """Write the login entry; returns where. `runner` runs PowerShell on Windows (tests pass
    their own: a .lnk can only be made through the Windows shell)."""
    from codexbar.paths import write_private_atomic

    platform = platform or sys.platform
    command = list(command or launch_command())
    path = entry_path(platform, env)
    if platform == "darwin":
        write_private_atomic(path, launch_agent(command))
    elif platform.startswith("win"):
        path.parent.mkdir(parents=True, exist_ok=True)
        script, variables = shortcut_script(path, command)
        (runner or _run)(
            ["powershell", "-NoProfile", "-NonInteractive", "-Command", script], variables
        )
    else:
        write_private_atomic(path, desktop_entry(command).encode("utf-8"))
    return path


def disable(platform: str | None = None, env: Mapping[str, str] | None = None) -> bool:
    try:
        entry_path(platform, env).unlink()
    except FileNotFoundError:
        return False
    return True


def desktop_entry(command: Sequence[str]) -> str:
    return (
        "[Desktop Entry]\n"
        "Type=Application\n"
        "Name=CodexBar\n"
        "Comment=Balance, spending limit and spend in the tray\n"
        f"Exec={' '.join(desktop_quote(arg) for arg in command)}\n"
        "Icon=utilities-system-monitor\n"
        "Terminal=false\n"
        "Categories=Utility;\n"
        # The panel's tray host may start after us; a short delay saves a fallback window.
        "X-GNOME-Autostart-enabled=true\n"
        "X-GNOME-Autostart-Delay=5\n"
        "X-KDE-autostart-after=panel\n"
    )


def desktop_quote(arg: str) -> str:
    """An Exec argument per the Desktop Entry spec: quoted when needed, with `"`, `` ` ``,
    `$` and `\\` escaped, then every backslash doubled again for the string-value layer."""
    reserved = set(" \t\n\"'\\><~|&;$*?#()`=%")
    if arg and not any(ch in reserved for ch in arg):
        return arg
    inner = "".join("\\" + ch if ch in '"`$\\' else ch for ch in arg).replace("%", "%%")
    return '"' + inner.replace("\\", "\\\\") + '"'


def launch_agent(command: Sequence[str]) -> bytes:
    import plistlib

    return plistlib.dumps(
        {
            "Label": AGENT_LABEL,
            "ProgramArguments": list(command),
            "RunAtLoad": True,
            "KeepAlive": False,
            "ProcessType": "Interactive",
        }
    )


def shortcut_script(path: Path, command: Sequence[str]) -> tuple[str, dict[str, str]]:
    """PowerShell that makes the shortcut; paths travel in environment variables, so no
    quoting of user paths inside the script is ever needed."""
    variables = {
        "CODEXBAR_LNK": str(path),
        "CODEXBAR_TARGET": command[0],
        "CODEXBAR_ARGS": subprocess.list2cmdline(list(command[1:])),
    }
    script = (
        "$s = (New-Object -ComObject WScript.Shell).CreateShortcut($env:CODEXBAR_LNK); "
        "$s.TargetPath = $env:CODEXBAR_TARGET; $s.Arguments = $env:CODEXBAR_ARGS; "
        "$s.Description = 'CodexBar tray'; $s.Save()"
    )
    return script, variables


def _run(args: Sequence[str], variables: Mapping[str, str]) -> None:
    from codexbar.errors import CodexbarError

    try:
        subprocess.run(
            list(args),
            env={**os.environ, **variables},
            check=True,
            capture_output=True,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise CodexbarError(f"could not create the Startup shortcut: {exc}") from None
