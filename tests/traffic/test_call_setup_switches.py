"""The two switch adapters against protocol-level fakes of Asterisk AMI and FreeSWITCH ESL
(tests/traffic/switch_fakes.py): what goes over the wire, and each way a switch can fail."""
from __future__ import annotations

import time

import pytest

from tests.traffic.switch_fakes import FakeAmi, FakeEsl, free_port
from traffic.callsetup.ami import AmiAdapter
from traffic.callsetup.base import CallRequest, SwitchConfig, SwitchUnavailable
from traffic.callsetup.esl import EslAdapter

CALL = CallRequest(own_number="+31205550101", number="+31699993678")


def config(port: int, *, secret: str = "secret", timeout: float = 2.0, channel: str = "PJSIP/{own}") -> SwitchConfig:
    return SwitchConfig(host="127.0.0.1", port=port, username="voipxs", secret=secret, channel=channel,
                        context="click-to-call", timeout=timeout, ring_seconds=30)


def fields(message: str, sep: str) -> dict[str, str]:
    return dict(line.split(": ", 1) for line in message.split(sep) if ": " in line)


class TestAsteriskAmi:
    def test_login_then_async_originate_rings_own_phone_first_with_own_caller_id(self):
        with FakeAmi() as fake:
            reference = AmiAdapter(config(fake.port)).originate(CALL)
        login, originate, logoff = (fields(m, "\r\n") for m in fake.received)
        assert login["Action"] == "Login" and login["Username"] == "voipxs" and login["Secret"] == "secret"
        assert originate == {
            "Action": "Originate", "ActionID": reference, "Channel": "PJSIP/+31205550101",
            "Context": "click-to-call", "Exten": "+31699993678", "Priority": "1", "CallerID": "<+31205550101>",
            "Timeout": "30000", "Async": "true",
        }
        assert logoff["Action"] == "Logoff"

    def test_refused_login(self):
        with FakeAmi() as fake, pytest.raises(SwitchUnavailable) as failure:
            AmiAdapter(config(fake.port, secret="wrong")).originate(CALL)
        assert failure.value.kind == "login"
        assert len(fake.received) == 1  # nothing after the login: no Originate was sent

    def test_switch_down(self):
        with pytest.raises(SwitchUnavailable) as failure:
            AmiAdapter(config(free_port())).originate(CALL)
        assert failure.value.kind == "down"

    @pytest.mark.parametrize("mode", ["silent", "hang_after_login"])
    def test_a_switch_that_stops_talking_costs_the_timeout_not_more(self, mode):
        with FakeAmi(mode=mode) as fake, pytest.raises(SwitchUnavailable) as failure:
            started = time.monotonic()
            AmiAdapter(config(fake.port, timeout=0.5)).originate(CALL)
        assert failure.value.kind == "timeout"
        assert time.monotonic() - started < 2

    def test_originate_refused(self):
        with FakeAmi(mode="refuse_originate") as fake, pytest.raises(SwitchUnavailable) as failure:
            AmiAdapter(config(fake.port)).originate(CALL)
        assert failure.value.kind == "refused"

    def test_closed_after_banner(self):
        with FakeAmi(mode="close_after_greeting") as fake, pytest.raises(SwitchUnavailable) as failure:
            AmiAdapter(config(fake.port)).originate(CALL)
        assert failure.value.kind == "down"

    def test_a_number_cannot_inject_an_ami_header(self):
        with pytest.raises(ValueError):
            CallRequest(own_number="+31205550101", number="+3161\r\nApplication: System")


class TestFreeswitchEsl:
    def test_auth_then_bgapi_originate_with_own_caller_id(self):
        with FakeEsl() as fake:
            job = EslAdapter(config(fake.port, channel="sofia/gateway/voipxs/{own}")).originate(CALL)
        auth, bgapi, goodbye = fake.received
        assert auth == "auth secret"
        command, job_header = bgapi.split("\n")
        assert command == ("bgapi originate {origination_caller_id_number=+31205550101,"
                           "effective_caller_id_number=+31205550101,originate_timeout=30,ignore_early_media=true}"
                           "sofia/gateway/voipxs/+31205550101 +31699993678 XML click-to-call +31205550101 +31205550101")
        assert job_header == f"Job-UUID: {job}"
        assert goodbye == "exit"

    def test_refused_login(self):
        with FakeEsl() as fake, pytest.raises(SwitchUnavailable) as failure:
            EslAdapter(config(fake.port, secret="wrong")).originate(CALL)
        assert failure.value.kind == "login"
        assert fake.received == ["auth wrong"]

    def test_switch_down(self):
        with pytest.raises(SwitchUnavailable) as failure:
            EslAdapter(config(free_port())).originate(CALL)
        assert failure.value.kind == "down"

    @pytest.mark.parametrize("mode", ["silent", "hang_after_login"])
    def test_a_switch_that_stops_talking_costs_the_timeout_not_more(self, mode):
        with FakeEsl(mode=mode) as fake, pytest.raises(SwitchUnavailable) as failure:
            started = time.monotonic()
            EslAdapter(config(fake.port, timeout=0.5)).originate(CALL)
        assert failure.value.kind == "timeout"
        assert time.monotonic() - started < 2

    def test_originate_refused(self):
        with FakeEsl(mode="refuse_originate") as fake, pytest.raises(SwitchUnavailable) as failure:
            EslAdapter(config(fake.port)).originate(CALL)
        assert failure.value.kind == "refused"

    def test_closed_after_greeting(self):
        with FakeEsl(mode="close_after_greeting") as fake, pytest.raises(SwitchUnavailable) as failure:
            EslAdapter(config(fake.port)).originate(CALL)
        assert failure.value.kind == "down"
