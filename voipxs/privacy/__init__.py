"""The privacy kernel: what every app builds on to keep the policy's promises, importing no app.

- `crypto`: AES-GCM field encryption under rotating keys, HMAC blind indexes, pseudonyms;
- `keys`: prints a fresh key set (`python -m voipxs.privacy.keys`);
- `fields`: encrypted model fields with their blind index;
- `files`: files at rest encrypted under a data key of their own (exports), written and read in chunks;
- `phone`: E.164 normalisation and masking;
- `purposes`: the purposes of processing, their legal bases and role grants, `require_purpose`;
- `audit` and `models`: the append-only, hash-chained audit log;
- `registry`: what each app registers (personal-data sections, purgers, keepers, demo seeders);
- `register`: the processing register (GDPR art. 30) generated from `purposes` and `registry`.
"""
