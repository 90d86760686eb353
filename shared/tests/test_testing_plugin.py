"""The reprokit pytest plugin blocks the network inside every test; run_python helper."""

import os
import socket

import pytest


def test_inet_socket_connect_is_blocked():
    with pytest.raises(RuntimeError):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.connect(("127.0.0.1", 9))


def test_dns_lookup_is_blocked():
    with pytest.raises(RuntimeError):
        socket.getaddrinfo("example.com", 80)


def test_unix_socket_is_allowed():
    a, b = socket.socketpair(socket.AF_UNIX)
    a.sendall(b"x")
    assert b.recv(1) == b"x"
    a.close()
    b.close()


def test_plugin_is_registered(pytestconfig):
    assert pytestconfig.pluginmanager.has_plugin("reprokit_nonet")


@pytest.mark.enable_socket
def test_fallback_guard_without_pytest_socket():
    from reprokit import testing

    testing._fallback_disable()
    try:
        with pytest.raises(testing.SocketBlockedError):
            socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        with pytest.raises(testing.SocketBlockedError):
            socket.getaddrinfo("example.com", 80)
        socket.socket(socket.AF_UNIX, socket.SOCK_STREAM).close()
    finally:
        testing._fallback_enable()
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # restored (no connection made)
    s.close()


def test_run_python_puts_src_first_and_runs_single_threaded(tmp_path):
    from reprokit.testing import run_python

    (tmp_path / "probe_mod.py").write_text(
        "import os, sys\nprint(os.environ['OMP_NUM_THREADS'], os.environ['EXTRA'], sys.argv[1:])\n"
        "sys.exit(3)\n"
    )
    r = run_python("-m", "probe_mod", "--x", "1", src=tmp_path, env={"EXTRA": "yes"})
    assert r.returncode == 3 and r.stdout.split() == ["1", "yes", "['--x',", "'1']"]


def test_run_entry_returns_the_exit_status_and_restores_the_runs_root(tmp_path, monkeypatch):
    from reprokit.errors import UserError
    from reprokit.testing import run_entry

    monkeypatch.setenv("REPROKIT_RUNS", "/elsewhere")
    seen = {}

    def ok(argv, fresh):
        seen.update(runs=os.environ["REPROKIT_RUNS"], argv=argv)

    def bad(argv, fresh):
        raise UserError("data.path: missing")

    assert run_entry("p.reproduce", ok, ["--a", "1"], tmp_path) == 0
    assert seen == {"runs": str(tmp_path), "argv": ["--a", "1"]}
    assert run_entry("p.reproduce", bad, [], tmp_path) == 2
    assert os.environ["REPROKIT_RUNS"] == "/elsewhere"
