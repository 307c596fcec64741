"""Live push: a switch POSTs each CDR as it writes it, instead of a file uploaded later.

- `credentials`: the HTTP basic credential of a source (`cdr_source add ... --push`): made once, only
  the SHA-256 of its random password kept; checked per push against a short per-process cache.
- `body`: what a switch sends → the bytes its source's parser (traffic/importers) reads: FreeSWITCH
  mod_json_cdr and mod_xml_cdr (`cdr=` form-encoded, base64 or plain; or a bare JSON/XML body), a bare
  JSON document, or lines of the source's CSV layout. mod_xml_cdr's XML becomes the mod_json_cdr
  document it holds, so one parser reads both. Refusals name why (PushRefused: status and message).
- `store`: parsed records → the one CDR write path (ingest.run.records_write: the same preparer,
  rating, encryption, dedupe on (source, unique_id) and writer as a file import). Pushes that arrive
  together are written in one transaction (group commit, one thread per process), and each answers
  only after that transaction committed. A retried push is a duplicate: answered 2xx, stored once.
- `views`: the endpoint (`/calls/push/`): CSRF-exempt, no session, HTTP basic auth, body bounded.
"""
