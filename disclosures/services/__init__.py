"""Writes of the disclosures app, one module per concern. Callers import the module they need
(`from disclosures.services import transitions`); nothing is re-exported here.

- `checks`       what every write shares: the legal-officer check, the row lock, the state check,
                 the written order on file, the audit line, and the messages they refuse with
- `authorities`  the register of requesting bodies, the verification of their channels, the
                 e-mail domains they send from and the certificate their packages are encrypted to
- `intake`       taking a request in (scope, targets, the legal hold) and its received documents
- `holds`        the legal hold on a request's scope: the only module that talks to retention
- `transitions`  the request's state machine, one service per step, each refusing the wrong state
                 (the API and the pages reach them through the table in `disclosures/transitions.py`)
- `packages`     the package: its build (the Celery task), a failed build, the logged download and
                 the file handed over (a .p7m encrypted to the authority's certificate, or the ZIP)
- `notices`      the notices to the users whose data was handed over, and sending withheld ones
- `jobs`         scheduled work (beat, the daily purge): hold releases, deadline escalation, secrecy
                 reminders, the purge of delivered packages
"""
