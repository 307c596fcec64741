"""A real switch in the tests: Kamailio (deploy/kamailio/kamailio.cfg, the operators' example) proxies calls
that SIPp places and answers, writes a CDR for each dialog and pushes it to this app (live_server) with
the source's push credential; every call must arrive once, with its times and billed seconds.

Needs the Debian packages kamailio, kamailio-utils-modules, kamailio-json-modules and sip-tester (SIPp);
skipped without them, never in CI (.ci/run installs them and fails on a skipped `sip` test)."""
from __future__ import annotations

import io
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command

from traffic.models import Cdr
from traffic.push.store import push_committer_stop

pytestmark = [pytest.mark.sip,
              pytest.mark.skipif(not (shutil.which("kamailio") and shutil.which("sipp")),
                                 reason="needs kamailio and sipp (apt-get install kamailio kamailio-utils-modules "
                                        "kamailio-json-modules sip-tester)")]

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "deploy" / "kamailio" / "kamailio.cfg"
SCENARIOS = Path(__file__).parent / "scenarios"
HOST = "127.0.0.1"


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)


@pytest.fixture
def switch(live_server, audit_log_flushable, tmp_path):
    """Kamailio pushing to live_server, and three SIPp callees: one answers, one is busy, one only rings."""
    out = io.StringIO()
    call_command("cdr_source", "add", "kamailio1", "--format", "freeswitch-json", "--timezone", "UTC", "--push",
                 stdout=out)
    creds = json.loads(out.getvalue().strip().splitlines()[-1])
    push_url = urlsplit(live_server.url)._replace(path=urlsplit(creds["url"]).path).geturl()
    push_url = push_url.replace("://", f"://{creds['username']}:{creds['password']}@", 1)
    proxy = free_udp_port()
    callees = {"answer": free_udp_port(), "busy": free_udp_port(), "ring": free_udp_port()}
    processes = []
    log = open(tmp_path / "kamailio.log", "wb")  # noqa: SIM115 - closed below
    processes.append(subprocess.Popen(
        ["kamailio", "-f", str(CONFIG), "-DD", "-E", "-m", "64", "-M", "8", "-Y", str(tmp_path), "-P", str(tmp_path / "k.pid"),
         "-A", f"LISTEN=udp:{HOST}:{proxy}", "-A", f'PUSH_CON="voipxs=>{push_url}"'],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=tmp_path))
    for kind, port in callees.items():
        scenario = ["-sf", str(SCENARIOS / f"uas_{ {'answer': 'answered', 'busy': 'busy', 'ring': 'ringing'}[kind]}.xml")]
        processes.append(subprocess.Popen(
            ["sipp", *scenario, "-i", HOST, "-p", str(port), "-nostdin", "-m", "100"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True, cwd=tmp_path))
    time.sleep(1.0)
    assert processes[0].poll() is None, (tmp_path / "kamailio.log").read_text(errors="replace")[-3000:]
    try:
        yield {"proxy": proxy, "callees": callees, "dir": tmp_path, "log": tmp_path / "kamailio.log"}
    finally:
        for process in processes:
            stop(process)
        log.close()
        push_committer_stop()


def place_call(switch: dict, *, scenario: str, callee: str, pause_ms: int, caller: str, dst: str) -> tuple[str, float, float]:
    """One call with SIPp through Kamailio; returns (Call-ID, time before, time after)."""
    call_id = f"{uuid.uuid4()}@voipxs-test"
    before = time.time()
    result = subprocess.run(
        ["sipp", f"{HOST}:{switch['callees'][callee]}", "-p", str(free_udp_port()), "-i", HOST,
         "-sf", str(SCENARIOS / f"uac_{scenario}.xml"), "-rsa", f"{HOST}:{switch['proxy']}", "-s", dst,
         "-cid_str", call_id, "-key", "caller", caller, "-d", str(pause_ms), "-m", "1", "-nostdin",
         "-timeout", "20", "-timeout_error"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=switch["dir"], timeout=60)
    after = time.time()
    assert result.returncode == 0, (scenario, result.stderr.decode(errors="replace")[-2000:],
                                    switch["log"].read_text(errors="replace")[-3000:])
    return call_id, before, after


def wait_for(count: int, timeout_s: float = 15) -> None:
    deadline = time.monotonic() + timeout_s
    while Cdr.objects.count() < count and time.monotonic() < deadline:
        time.sleep(0.2)


def test_every_call_through_kamailio_arrives_once_with_its_times_and_billed_seconds(switch):
    calls = [
        ("answered", "answer", 2000, "0205550101", "0612345678"),
        ("answered", "answer", 3000, "0205550102", "0612345679"),
        ("rejected", "busy", 0, "0205550103", "0612345670"),
        ("cancelled", "ring", 1000, "0205550104", "0612345671"),
    ]
    placed = {}
    for scenario, callee, pause_ms, caller, dst in calls:
        call_id, before, after = place_call(switch, scenario=scenario, callee=callee, pause_ms=pause_ms,
                                            caller=caller, dst=dst)
        placed[call_id] = (scenario, pause_ms, before, after)
    wait_for(len(calls))
    time.sleep(1.0)  # a second push of any call would have arrived by now
    log = switch["log"].read_text(errors="replace")
    stored = {cdr.unique_id: cdr for cdr in Cdr.objects.all()}
    assert sorted(stored) == sorted(placed), log[-3000:]
    assert log.count("HTTP 201") == len(calls) and "failed" not in log, log[-3000:]
    for call_id, (scenario, pause_ms, before, after) in placed.items():
        cdr = stored[call_id]
        started = cdr.started_at.timestamp()
        assert before <= started <= after, scenario
        assert cdr.source.name == "kamailio1"
        if scenario == "answered":
            assert cdr.disposition == "answered" and cdr.billsec == pause_ms // 1000, (scenario, cdr.billsec)
            assert started <= cdr.answered_at.timestamp() <= started + 1
            assert cdr.duration in (pause_ms // 1000, pause_ms // 1000 + 1)
        else:
            expected = {"rejected": "busy", "cancelled": "no_answer"}[scenario]
            assert (cdr.disposition, cdr.billsec, cdr.answered_at) == (expected, 0, None), scenario
