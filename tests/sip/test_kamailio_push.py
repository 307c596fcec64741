"""A real switch in the tests: Kamailio (deploy/kamailio/kamailio.cfg, the operators' example) proxies calls
that SIPp places and answers, writes a CDR for each dialog and pushes it to this app (live_server) with
the source's push credential; every call must arrive once, with its times and billed seconds.

Needs the Debian packages kamailio, kamailio-utils-modules, kamailio-json-modules and sip-tester (SIPp);
skipped without them, never in CI (.ci/run installs them and fails on a skipped `sip` test)."""
from __future__ import annotations

import io
import json
import os
import re
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

from traffic.ingest.rows import stored_id
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
def switch(request, live_server, audit_log_flushable, tmp_path):
    """Kamailio pushing to live_server (started with the config names a test's parameter gives, `-A NAME`),
    and four SIPp callees: one answers, one rings 2 s and then answers, one is busy, one only rings."""
    out = io.StringIO()
    call_command("cdr_source", "add", "kamailio1", "--format", "freeswitch-json", "--timezone", "UTC", "--push",
                 stdout=out)
    creds = json.loads(out.getvalue().strip().splitlines()[-1])
    push_url = urlsplit(live_server.url)._replace(path=urlsplit(creds["url"]).path).geturl()
    push_url = push_url.replace("://", f"://{creds['username']}:{creds['password']}@", 1)
    proxy = free_udp_port()
    callees = {"answer": free_udp_port(), "busy": free_udp_port(), "ring": free_udp_port(),
               "ring_then_answer": free_udp_port()}
    defines = [arg for name in getattr(request, "param", ()) for arg in ("-A", name)]
    processes = []
    log = open(tmp_path / "kamailio.log", "wb")  # noqa: SIM115 - closed below
    processes.append(subprocess.Popen(
        ["kamailio", "-f", str(CONFIG), "-DD", "-E", "-m", "64", "-M", "8", "-Y", str(tmp_path), "-P", str(tmp_path / "k.pid"),
         "-A", f"LISTEN=udp:{HOST}:{proxy}", "-A", f'PUSH_CON="voipxs=>{push_url}"', *defines],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=tmp_path))
    for kind, port in callees.items():
        name = {"answer": "answered", "busy": "busy", "ring": "ringing", "ring_then_answer": "ring_then_answer"}[kind]
        scenario = ["-sf", str(SCENARIOS / f"uas_{name}.xml")]
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


@pytest.mark.real_clock("Kamailio, a process of its own, stamps the calls at the real time; the test checks each lies "
                        "between the moments it placed it")
def test_every_call_through_kamailio_arrives_once_with_its_times_and_billed_seconds(switch):
    calls = [
        ("answered", "answer", 2000, "0205550101", "0699993678"),
        ("answered", "answer", 3000, "0205550102", "0699993679"),
        ("rejected", "busy", 0, "0205550103", "0699993670"),
        ("cancelled", "ring", 1000, "0205550104", "0699993671"),
    ]
    placed = {}
    for scenario, callee, pause_ms, caller, dst in calls:
        call_id, before, after = place_call(switch, scenario=scenario, callee=callee, pause_ms=pause_ms,
                                            caller=caller, dst=dst)
        # stored under a hash of the Call-ID, which names a host (LEGAL.md row 1: traffic.ingest.rows)
        placed[stored_id(call_id)] = (scenario, pause_ms, before, after)
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


def acc_lines(switch: dict, call_id: str, timeout_s: float = 10) -> bytes:
    """The acc CDR lines Kamailio wrote to its log (-E: stderr, a syslog line each), once the call's is there."""
    deadline = time.monotonic() + timeout_s
    while True:
        lines = [line for line in switch["log"].read_bytes().splitlines(keepends=True) if b" start_time=" in line]
        if any(f"callid={call_id};".encode() in line for line in lines) or time.monotonic() > deadline:
            return b"".join(lines)
        time.sleep(0.2)


ACC_LAYOUT = 'modparam("acc", "cdr_enable", 1)'


@pytest.mark.parametrize("switch", [(), ("ACC_START_ON_CONFIRMED",)], indirect=True,
                         ids=["kamailio-default", "cdr_start_on_confirmed"])
def test_kamailio_acc_lines_bill_what_was_talked_never_the_ringing(switch, request):
    """A call that rang 2 s and talked 2 s, seen twice: pushed, and in the acc CDR line Kamailio logged; the line,
    imported as a kamailio-acc source declaring the proxy's acc settings, bills the 2 s the push bills."""
    from traffic.services.imports import cdr_bulk_import
    from traffic.services.sources import source_create

    confirmed = bool(request.node.callspec.params["switch"])
    call_id, _before, _after = place_call(switch, scenario="answered", callee="ring_then_answer", pause_ms=2000,
                                          caller="0205550101", dst="0699993678")
    wait_for(1)
    pushed = Cdr.objects.get(unique_id=stored_id(call_id))
    assert pushed.billsec == 2 and (pushed.answered_at - pushed.started_at).total_seconds() >= 1.9  # it rang
    lines = acc_lines(switch, call_id)
    layout = ACC_LAYOUT + ('\nmodparam("acc", "cdr_start_on_confirmed", 1)' if confirmed else "")
    source = source_create(name="kamailio1-acc", format="kamailio-acc", timezone="UTC", columns=layout)
    replayed = cdr_bulk_import(source=source, stream=io.BytesIO(lines), file_name="kamailio.log")
    assert (replayed.imported, replayed.report["rejected"]) == (1, []), lines.decode(errors="replace")[-2000:]
    replay = Cdr.objects.get(source=source)
    assert (replay.disposition, replay.billsec, replay.flags) == ("answered", pushed.billsec, pushed.flags)
    assert abs((replay.answered_at - pushed.answered_at).total_seconds()) < 0.05
    if confirmed:  # start_time is the answer: the record starts there and lasts what was talked
        assert replay.started_at == replay.answered_at and replay.duration == 2
        return
    # Kamailio's default: start_time is the INVITE and duration holds the ringing
    assert abs((replay.started_at - pushed.started_at).total_seconds()) < 0.05 and replay.duration in (4, 5)
    # the same real line from a proxy that logs no answer time: kept, flagged, and not billed the ringing
    bare = re.sub(rb"; answer_time=[0-9.]*", b"", lines)
    other = source_create(name="kamailio1-acc-bare", format="kamailio-acc", timezone="UTC", columns=ACC_LAYOUT)
    assert cdr_bulk_import(source=other, stream=io.BytesIO(bare), file_name="kamailio.log").flagged == 1
    unknown = Cdr.objects.get(source=other)
    assert (unknown.disposition, unknown.billsec, unknown.answered_at) == ("answered", 0, None)
    assert "answer_time_unknown" in unknown.flags.split(",") and unknown.rating == "free"
