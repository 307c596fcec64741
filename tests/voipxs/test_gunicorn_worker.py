"""voipxs.gunicorn_worker: client connections shared evenly between gunicorn's workers (bench.load found
23 of 32 keep-alive connections on one worker and 9 on the other), and never none accepting."""
from __future__ import annotations

import http.client
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from voipxs.gunicorn_worker import STALE_SECONDS, may_accept

ROOT = Path(__file__).resolve().parents[2]


def test_a_worker_accepts_while_it_holds_no_more_than_any_other_live_worker():
    held, seen, now = [5, 3, -1, 4], [100.0, 100.0, 0.0, 100.0], 101.0
    assert not may_accept(5, 0, held, seen, now)  # 5 > 3: the worker with 3 takes the next one
    assert may_accept(3, 1, held, seen, now)  # the fewest always accepts
    assert may_accept(4, 3, [4, 4, -1, 4], seen, now)  # equal shares: all accept


def test_a_worker_that_stopped_publishing_or_exited_does_not_count():
    seen = [100.0, 100.0 - STALE_SECONDS - 1]
    assert may_accept(9, 0, [9, 0], seen, 100.0)  # the other one hung: its 0 is not believed
    assert may_accept(9, 0, [9, -1], [100.0, 100.0], 100.0)  # the other one exited (slot freed)
    assert may_accept(0, 0, [0], [100.0], 100.0)  # alone


APP = '''
import time
def app(environ, start_response):
    time.sleep(0.05)
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"ok"]
'''


@pytest.mark.skipif(not shutil.which("ss"), reason="needs ss (iproute2) to count each worker's connections")
def test_simultaneous_keep_alive_clients_are_shared_evenly_by_real_workers(tmp_path):
    (tmp_path / "tiny_app.py").write_text(APP)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = dict(os.environ, PYTHONPATH=f"{tmp_path}{os.pathsep}{ROOT}", WEB_CONCURRENCY="2", GUNICORN_THREADS="4")
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), "--bind", f"127.0.0.1:{port}",
         "tiny_app:app"], cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    clients = []
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None, server.stderr.read().decode()[-2000:]
                time.sleep(0.2)
        time.sleep(1.5)  # both workers booted and publishing
        clients = [http.client.HTTPConnection("127.0.0.1", port, timeout=10) for _ in range(16)]
        for client in clients:  # sixteen clients at once, each keeping its connection
            client.connect()
        for client in clients:
            client.request("GET", "/")
        assert [c.getresponse().read() for c in clients] == [b"ok"] * 16  # every one answered
        listing = subprocess.run(["ss", "-tnpH", "state", "established", f"( sport = :{port} )"],
                                 capture_output=True, text=True, check=True).stdout
        per_worker = sorted(re.findall(r"pid=(\d+)", listing).count(pid) for pid in set(re.findall(r"pid=(\d+)", listing)))
        assert sum(per_worker) == 16 and len(per_worker) == 2 and per_worker[1] - per_worker[0] <= 2, per_worker
    finally:
        for client in clients:
            client.close()
        server.terminate()
        server.wait(timeout=30)
