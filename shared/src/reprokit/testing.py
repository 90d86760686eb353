"""pytest plugin: no test in this repository may touch the network.

Registered through the ``pytest11`` entry point of the ``reprokit`` distribution, so it is
active in every pytest run of every environment where reprokit is installed. It switches on
pytest-socket's ``--disable-socket --allow-unix-socket`` for every test: any ``socket.socket``
other than a unix socket raises ``pytest_socket.SocketBlockedError`` (a ``RuntimeError``), and
``getaddrinfo`` / ``gethostbyname`` are blocked too. Subprocesses (torchrun/gloo tests) are
not affected. ``--force-enable-socket`` or the ``enable_socket`` marker still opt out.

When pytest-socket is not installed a minimal guard with the same behaviour is used.

:func:`run_entry` runs a project's real ``reproduce`` entry in-process (runs root of the
test's choosing) and returns its exit status. :func:`run_python` runs an entry point
(``-m <project>.reproduce``, ``torch.distributed.run``, ``-c script``) in a subprocess the way a
user would: the project's ``src`` first on PYTHONPATH, single-threaded OpenMP.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

try:  # pragma: no cover - depends on the environment
    import pytest_socket as _pytest_socket
except ImportError:  # pragma: no cover
    _pytest_socket = None


class SocketBlockedError(RuntimeError):
    """Raised by the fallback guard when a test opens a non-unix socket."""

    def __init__(self) -> None:
        super().__init__("A test tried to use the network (sockets are disabled by reprokit).")


_true_socket = socket.socket
_true_getaddrinfo = socket.getaddrinfo
_true_gethostbyname = socket.gethostbyname


def _fallback_disable() -> None:
    class GuardedSocket(socket.socket):
        def __new__(cls, family=-1, type=-1, proto=-1, fileno=None):
            if family == getattr(socket, "AF_UNIX", None):
                return super().__new__(cls, family, type, proto, fileno)
            raise SocketBlockedError()

    def _blocked(*_args, **_kwargs):
        raise SocketBlockedError()

    socket.socket = GuardedSocket  # type: ignore[misc]
    socket.getaddrinfo = _blocked
    socket.gethostbyname = _blocked


def _fallback_enable() -> None:
    socket.socket = _true_socket  # type: ignore[misc]
    socket.getaddrinfo = _true_getaddrinfo
    socket.gethostbyname = _true_gethostbyname


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Turn pytest-socket's global switches on before it reads them."""
    if _pytest_socket is not None:
        config.option.disable_socket = True
        config.option.allow_unix_socket = True


def pytest_runtest_setup(item: pytest.Item) -> None:
    if _pytest_socket is None and item.get_closest_marker("enable_socket") is None:
        _fallback_disable()


def pytest_runtest_teardown(item: pytest.Item) -> None:
    if _pytest_socket is None:
        _fallback_enable()


def run_entry(
    prog: str, run: Callable[[list[str], bool], object], args: list[str], runs: str | Path
) -> int:
    """``python -m <prog> ARGS`` in-process through the real ``reprokit.lifecycle.entry``, with
    ``$REPROKIT_RUNS`` set to ``runs`` for the call (restored afterwards): its exit status."""
    from reprokit.lifecycle import entry

    old = os.environ.get("REPROKIT_RUNS")
    os.environ["REPROKIT_RUNS"] = str(runs)
    try:
        entry(prog, run, list(args))
    except SystemExit as e:
        return int(e.code or 0)
    finally:
        if old is None:
            del os.environ["REPROKIT_RUNS"]
        else:
            os.environ["REPROKIT_RUNS"] = old
    raise AssertionError(f"{prog}: entry() returned instead of exiting")


def run_python(
    *args: str,
    src: str | Path,
    env: Mapping[str, str] | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess:
    """``python *args`` in a subprocess with ``src`` first on PYTHONPATH and OMP_NUM_THREADS=1
    (``env`` adds or overrides variables); stdout/stderr captured as text."""
    path = os.pathsep.join(p for p in (str(src), os.environ.get("PYTHONPATH", "")) if p)
    full = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": path, **(env or {})}
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, env=full, timeout=timeout
    )


def interrupt_python(
    *args: str,
    src: str | Path,
    when: str,
    env: Mapping[str, str] | None = None,
    timeout: float = 300,
    sig: int = signal.SIGTERM,
) -> subprocess.CompletedProcess:
    """Like :func:`run_python`, but send ``sig`` as soon as a stdout line contains ``when``.

    Used to test a clean stop and resume of a real entry point: wait for e.g. ``"-- unit
    drc-seed0"`` (printed by ``reprokit.lifecycle.Session.unit``), SIGTERM, and collect the
    exit status and output. If the line never comes the process runs to its end.
    """
    path = os.pathsep.join(p for p in (str(src), os.environ.get("PYTHONPATH", "")) if p)
    full = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": path, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**full, **(env or {})},
    )
    out: list[str] = []
    sent = False
    deadline = time.monotonic() + timeout
    assert proc.stdout is not None
    for line in proc.stdout:
        out.append(line)
        if not sent and when in line:
            proc.send_signal(sig)
            sent = True
        if time.monotonic() > deadline:
            proc.kill()
            break
    stderr = proc.stderr.read() if proc.stderr else ""
    code = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    return subprocess.CompletedProcess(proc.args, code, "".join(out), stderr)
