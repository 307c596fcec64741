"""Notes on calls (GDPR art. 16, LEGAL.md section 5 row 24). A CDR is what the switch recorded: a customer who
says a call is wrong gets a note attached to it, never a changed record.

- models.py: CdrAnnotation, the note (its text encrypted), imported by traffic/models.py
- sealing.py: how a note's text is encrypted and read: under its call's month key, so the month's shred takes
  the note with it; under the master key once its call is kept in the hold table after its month was dropped

The writes are in traffic/services/annotations.py (the DPO's `cdr_annotate`, and what the purge and erasure
remove with their calls), the reads in traffic/selectors/annotations.py, the DPO's form in
traffic/views/annotations.py.
"""
