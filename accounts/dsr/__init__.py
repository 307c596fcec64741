"""Data-subject rights (GDPR art. 12-20) and the DPO's registers, inside the accounts app.

A person asks for access, portability, rectification, erasure or restriction; the DPO works through the
requests against their deadlines and keeps the breach register and the privacy-policy versions.

- models.py: DataSubjectRequest, ExportFile, ExportDownload, PolicyVersion, PolicyNoticeSeen,
  BreachIncident, BreachNotification (imported by accounts/models.py, so they stay accounts' models)
- services.py: the request workflow (make, start, extend, complete, reject), restriction, erasure's run
- erasure.py: what erasure does to a person's data (the sections' erasers, the account, the answer)
- representative.py: a representative's name goes with the person's account (erasure, the retention purge)
- texts.py: the free texts of every request of the person's go with their account (erasure, the retention purge)
- open_requests.py: the person's open requests close when their account goes (erasure, the retention purge); the
  check every DPO step makes first (closed, or texts erased: refused)
- export.py: the encrypted export file (build, download, purge)
- breaches.py, policy.py: the breach register; policy versions and the notice of a change
- reminders.py: deadline reminders to the DPO (requests and breach clocks)
- selectors.py, views.py, api.py, urls.py: reads, pages (/privacy-requests/) and the API (/api/v1/me/...)
- panels.py: what higher apps add to the DPO's request page (traffic: notes on the requester's calls)
- sections.py: the "requests" section of the registry, the export-file purger, demo data
- middleware.py, context_processors.py: a policy change seen on the policy page; its notice on every page
"""
