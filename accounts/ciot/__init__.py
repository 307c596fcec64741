"""The CIOT subscriber file (Tw art. 13.4(3); Besluit verstrekking gegevens telecommunicatie).

Providers keep user data available to the CIOT information system: name, address, postcode, town,
number, service type, and the period the number was held. Modules:
- models.py: `SubscriberDetails` (versioned name and address of a user) and `CiotSyncRun` (the sync log);
- services.py: `subscriber_details_set` (a change closes the old version), `ciot_sync` (one run, alert on failure);
- selectors.py: `ciot_records` (the file's rows, purpose CIOT, audited), `ciot_sync_run_list` (no personal data);
- adapters.py: the one interface a delivery goes through (`CiotAdapter`), and the CSV file adapter.
The file is a full snapshot built from the number periods, so porting and closure (which end a period)
show in the next run without a change feed that could miss one.
"""
