"""Click-to-call (issue 12): asking the switch to ring the user's own phone first, then the chosen number.

One small interface, `SwitchAdapter.originate(call) -> reference`, and one adapter per switch, chosen per
deployment by the setting CALL_SETUP_BACKEND:

- base.py: the interface, the call request, SwitchUnavailable and the settings it reads;
- backends.py: `switch_adapter()`, the adapter CALL_SETUP_BACKEND names;
- wire.py: a TCP connection with one deadline for the whole exchange (connect, login, action);
- ami.py: Asterisk Manager Interface, `Action: Originate` (Async) after `Action: Login`;
- esl.py: FreeSWITCH event socket (inbound), `auth` then `bgapi originate`;
- models.py: blocked prefixes and the set-up records (imported by traffic/models.py).

Every failure is a SwitchUnavailable with a `kind` (down, timeout, login, refused, protocol, off): the API
answers 503 with a message for the kind, and nothing is recorded as set up. A message never holds a number.
"""
