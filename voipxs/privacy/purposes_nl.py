"""The processing register's texts in Dutch: the purposes table of the public privacy-policy page (GDPR art. 12: the
policy in clear and plain language, for a Dutch reader in Dutch) and the DPO's register page (art. 30).

`purposes.PURPOSES` stays the canonical English text: the DPIA's fingerprint (`dpia.DPIA_ASSESSED`) and the
register's and DPIA's documents of record read it, so a translation must not touch it. This table maps each English
text to its Dutch, keyed by the English itself: an English text edited in PURPOSES no longer finds its old Dutch,
and the page then shows the new English marked lang="en" until its Dutch is written here (a test names every text
of PURPOSES that lacks it). These are content of the policy, as the policy's own Dutch text is (accounts'
PolicyVersion.text_nl), written by the provider, not strings of the user interface (locale/).
"""
from __future__ import annotations

from typing import Iterable

DUTCH: dict[str, str] = {
    # descriptions ("What we do")
    "Rating calls and issuing invoices for the amounts due by the Contractor.":
        "Gesprekken tariferen en facturen opmaken voor de door de Opdrachtgever verschuldigde bedragen.",
    "Settling payments with network operators for interconnection and special access.":
        "Betalingen met netwerkaanbieders afrekenen voor interconnectie en bijzondere toegang.",
    "Legal obligations, including the prevention, detection and prosecution of criminal offences.":
        "Wettelijke verplichtingen, waaronder het voorkomen, opsporen en vervolgen van strafbare feiten.",
    "Disputes between VoIPXS and the Contractor and/or User.":
        "Geschillen tussen VoIPXS en de Opdrachtgever en/of de Gebruiker.",
    "Informing the Contractor about the traffic of its Users (numbers masked).":
        "De Opdrachtgever informeren over het verkeer van zijn Gebruikers (met gemaskeerde nummers).",
    "A user seeing, exporting and managing their own data (GDPR art. 15-20).":
        "Een gebruiker die zijn eigen gegevens inziet, exporteert en beheert (AVG art. 15-20).",
    "Preventing fraud and abuse and securing the service.":
        "Fraude en misbruik voorkomen en de dienst beveiligen.",
    ("Support staff, asked by a customer, find the account by number or e-mail address (blind "
     "index), see its account and number details and its click-to-call set-ups of the last 30 days "
     "(the number called masked; never its call records), lift a sign-in lockout, reset a "
     "second factor with a recorded reason, open a rights request on the customer's behalf, and "
     "change how the customer's bills are itemised at their request (recording how they asked; "
     "the customer is told by e-mail)."):
        ("Supportmedewerkers zoeken, op verzoek van een klant, het account op aan de hand van een nummer of "
         "e-mailadres (blinde index), zien de gegevens van het account en de nummers en de via klik-om-te-bellen "
         "opgezette gesprekken van de laatste 30 dagen (met het gebelde nummer gemaskeerd; nooit de "
         "gespreksgegevens), heffen een inlogblokkade op, stellen een tweede factor opnieuw in met een "
         "vastgelegde reden, dienen namens de klant een verzoek in om zijn rechten uit te oefenen, en wijzigen "
         "op verzoek van de klant hoe zijn rekeningen "
         "worden gespecificeerd (met vastlegging van hoe hij daarom vroeg; de klant krijgt hiervan bericht per "
         "e-mail)."),
    ("Keeping the subscriber file (name, address, number, service, validity dates) available to "
     "the CIOT information system, which authorised investigating bodies query; VoIPXS does not see "
     "their queries."):
        ("Het abonneebestand (naam, adres, nummer, dienst, geldigheidsdata) beschikbaar houden voor het "
         "informatiesysteem van het CIOT, dat bevoegde opsporingsinstanties bevragen; VoIPXS ziet hun bevragingen "
         "niet."),
    ("Setting up a call the user chose (click-to-call): their own phone rings first, then the "
     "chosen number. Only that number is received; nothing of the page it was on."):
        ("Een gesprek opzetten dat de gebruiker koos (klik-om-te-bellen): eerst gaat zijn eigen telefoon over, "
         "daarna het gekozen nummer. Alleen dat nummer wordt ontvangen, niets van de pagina waarop het stond."),
    # legal bases (Tw: Telecommunicatiewet; Sv: Wetboek van Strafvordering; AVG: the GDPR)
    "GDPR art. 6(1)(b) contract; Tw art. 11.5(2) traffic data for billing":
        "AVG art. 6(1)(b) overeenkomst; Tw art. 11.5(2) verkeersgegevens voor de facturering",
    "GDPR art. 6(1)(b)/(f); Tw art. 11.5(2)": "AVG art. 6(1)(b)/(f); Tw art. 11.5(2)",
    "GDPR art. 6(1)(c); Sv art. 126n, 126na, 126ni; Tw art. 13.4(3) and the Bvgt (CIOT)":
        "AVG art. 6(1)(c); Sv art. 126n, 126na, 126ni; Tw art. 13.4(3) en het Bvgt (CIOT)",
    "GDPR art. 6(1)(f) legitimate interest; Tw art. 11.5(2)":
        "AVG art. 6(1)(f) gerechtvaardigd belang; Tw art. 11.5(2)",
    "GDPR art. 6(1)(b) contract; Tw art. 11.5(2)": "AVG art. 6(1)(b) overeenkomst; Tw art. 11.5(2)",
    "GDPR art. 6(1)(b) contract; GDPR art. 15, 20": "AVG art. 6(1)(b) overeenkomst; AVG art. 15, 20",
    "GDPR art. 6(1)(f); Tw art. 11.5(1)": "AVG art. 6(1)(f); Tw art. 11.5(1)",
    ("GDPR art. 6(1)(b) contract (the customer's own request for help); GDPR art. 12(2) (helping "
     "the exercise of rights)"):
        ("AVG art. 6(1)(b) overeenkomst (het eigen verzoek van de klant om hulp); AVG art. 12(2) (de uitoefening "
         "van rechten faciliteren)"),
    "GDPR art. 6(1)(c); Tw art. 13.4(3); Besluit verstrekking gegevens telecommunicatie (Bvgt)":
        "AVG art. 6(1)(c); Tw art. 13.4(3); Besluit verstrekking gegevens telecommunicatie (Bvgt)",
    "GDPR art. 6(1)(b) contract; Tw art. 11.5(2) traffic data for the transmission":
        "AVG art. 6(1)(b) overeenkomst; Tw art. 11.5(2) verkeersgegevens voor de overbrenging",
    # recipients
    "billing staff": "facturatiemedewerkers",
    "the Contractor (own invoices)": "de Opdrachtgever (eigen facturen)",
    "interconnecting network operators (aggregates)": "netwerkaanbieders waarmee wij interconnecteren (totalen)",
    "law-enforcement agencies": "opsporingsinstanties",
    "public prosecutor": "het Openbaar Ministerie",
    "courts": "rechtbanken",
    "judicial authorities": "gerechtelijke instanties",
    "dispute commissions": "geschillencommissies",
    "mediators": "bemiddelaars",
    "the Contractor's admins": "de beheerders van de Opdrachtgever",
    "the user themself": "de gebruiker zelf",
    "support and security staff": "support- en beveiligingsmedewerkers",
    "support staff": "supportmedewerkers",
    "CIOT (Ministry of Justice and Security), for the bodies authorised under Sv 126n ff. and Wiv":
        "het CIOT (ministerie van Justitie en Veiligheid), voor de instanties die bevoegd zijn op grond van "
        "Sv 126n e.v. en de Wiv",
    "the switch that sets up the call": "de centrale die het gesprek opzet",
    # data categories
    "user data": "gebruikersgegevens",
    "name and address on the invoice (the Contractor's, or the User's own)":
        "naam en adres op de factuur (die van de Opdrachtgever, of die van de Gebruiker zelf)",
    "traffic data": "verkeersgegevens",
    "invoices": "facturen",
    "traffic data (aggregated per trunk and month)": "verkeersgegevens (opgeteld per trunk en maand)",
    "traffic data (masked)": "verkeersgegevens (gemaskeerd)",
    "technical identifiers": "technische kenmerken",
    "user data (login name, e-mail address, numbers, account and sign-in status)":
        "gebruikersgegevens (inlognaam, e-mailadres, nummers, status van het account en van het inloggen)",
    "click-to-call set-ups (time, own number, the number called masked, outcome)":
        "via klik-om-te-bellen opgezette gesprekken (tijdstip, eigen nummer, het gebelde nummer gemaskeerd, uitkomst)",
    "user data (name, address, postcode, town)": "gebruikersgegevens (naam, adres, postcode, woonplaats)",
    "numbers with their validity dates": "nummers met hun geldigheidsdata",
    "service type": "soort dienst",
    "user data (own number)": "gebruikersgegevens (eigen nummer)",
    "the chosen number": "het gekozen nummer",
    "time of the set-up": "tijdstip van het opzetten",
    # retention (the purposes' and the categories')
    ("CDRs until the invoice is paid, undisputed and its dispute window has passed (a decided dispute: until the "
     "time to take the decision further has passed); invoices 7 years (AWR art. 52); the invoice address until the "
     "account is anonymised (each invoice keeps its own copy)"):
        ("CDR's tot de factuur betaald en onbetwist is en de termijn om haar te betwisten voorbij is (bij een beslist "
         "geschil: tot de termijn om de beslissing aan te vechten voorbij is); facturen 7 jaar (AWR art. 52); het "
         "factuuradres tot het account is geanonimiseerd (elke factuur houdt haar eigen kopie)"),
    "as billing": "als bij de facturering",
    "disclosure packages 90 days after delivery; the request record as accountability":
        "verstrekkingspakketten 90 dagen na aflevering; het dossier van het verzoek als verantwoording",
    "until the dispute is settled": "tot het geschil is beslecht",
    "as the underlying data": "als de onderliggende gegevens",
    "as the request record": "als het dossier van het verzoek",
    "technical identifiers 30 days; unbilled calls 3 months":
        "technische kenmerken 30 dagen; niet-gefactureerde gesprekken 3 maanden",
    "nothing is copied; each access and action stays in the audit log (5 years, pseudonymous)":
        "er wordt niets gekopieerd; elke inzage en handeling blijft in het auditlogboek (5 jaar, gepseudonimiseerd)",
    "as the user data: until the closed account is anonymised; each sync file is replaced by the next":
        ("als de gebruikersgegevens: tot het opgeheven account is geanonimiseerd; elk synchronisatiebestand wordt "
         "door het volgende vervangen"),
    "set-up records 30 days; the call itself as a CDR (as billing)":
        "gegevens van het opzetten 30 dagen; het gesprek zelf als CDR (als bij de facturering)",
    "until the account is closed and its final invoice settled, plus 30 days":
        "tot het account is opgeheven en de laatste factuur is voldaan, plus 30 dagen",
    "as the profile; the assignment periods as long as CDRs that refer to them":
        "als het profiel; de toewijzingsperioden zolang CDR's ernaar verwijzen",
    "as the profile; kept available to the CIOT while the account exists":
        "als het profiel; beschikbaar gehouden voor het CIOT zolang het account bestaat",
    ("until the closed account is anonymised (a Contractor's: once its contract ended and its last user was "
     "anonymised); each invoice keeps its own copy for 7 years (AWR art. 52)"):
        ("tot het opgeheven account is geanonimiseerd (die van een Opdrachtgever: zodra zijn overeenkomst is "
         "geëindigd en zijn laatste gebruiker is geanonimiseerd); elke factuur houdt haar eigen kopie 7 jaar "
         "(AWR art. 52)"),
    ("until the invoice is paid, undisputed and its dispute window has passed (a decided dispute: until the time "
     "to take the decision further has passed); unbilled calls 3 months"):
        ("tot de factuur betaald en onbetwist is en de termijn om haar te betwisten voorbij is (bij een beslist "
         "geschil: tot de termijn om de beslissing aan te vechten voorbij is); niet-gefactureerde gesprekken "
         "3 maanden"),
    "30 days": "30 dagen",
    "7 years after the invoice date": "7 jaar na de factuurdatum",
    ("as the account; once it is erased or anonymised, the request record as accountability (kind, dates, status, "
     "outcome), without the texts: what you wrote, the extension's reason and our answer, an objection's balancing "
     "record, and a representative's name and proof of authority"):
        ("als het account; zodra het is gewist of geanonimiseerd, het dossier van het verzoek als verantwoording "
         "(soort, data, status, uitkomst), zonder de teksten: wat u schreef, de reden van de verlenging en ons "
         "antwoord, de belangenafweging bij een bezwaar, en de naam en de machtiging van een vertegenwoordiger"),
    "the request record as accountability; packages 90 days after delivery":
        "het dossier van het verzoek als verantwoording; pakketten 90 dagen na aflevering",
    ("as the account; once it is erased, under the account's number only, as the record that the change was "
     "announced"):
        ("als het account; zodra het is gewist alleen onder het nummer van het account, als vastlegging dat de "
         "wijziging is aangekondigd"),
    # the categories' legal bases
    "GDPR art. 6(1)(b) contract": "AVG art. 6(1)(b) overeenkomst",
    "GDPR art. 6(1)(c); Tw art. 13.4(3); Bvgt": "AVG art. 6(1)(c); Tw art. 13.4(3); Bvgt",
    "GDPR art. 6(1)(b) contract; Wet OB art. 35a (the invoice names the customer)":
        "AVG art. 6(1)(b) overeenkomst; Wet OB art. 35a (de factuur noemt de afnemer)",
    "Tw art. 11.5(2) (billing); GDPR art. 6(1)(b)": "Tw art. 11.5(2) (facturering); AVG art. 6(1)(b)",
    "GDPR art. 6(1)(b) contract (setting up the calls you asked for)":
        "AVG art. 6(1)(b) overeenkomst (het opzetten van de gesprekken waarom u vroeg)",
    "GDPR art. 6(1)(b)/(c); AWR art. 52 (fiscal retention)": "AVG art. 6(1)(b)/(c); AWR art. 52 (fiscale bewaarplicht)",
    "GDPR art. 6(1)(c); GDPR art. 12 and 5(2) (accountability)":
        "AVG art. 6(1)(c); AVG art. 12 en 5(2) (verantwoordingsplicht)",
    "GDPR art. 6(1)(c); Sv art. 126n, 126na, 126ni": "AVG art. 6(1)(c); Sv art. 126n, 126na, 126ni",
    "GDPR art. 6(1)(c); GDPR art. 13 and 5(2) (accountability: that you were told of a change)":
        "AVG art. 6(1)(c); AVG art. 13 en 5(2) (verantwoordingsplicht: dat u over een wijziging bent ingelicht)",
    "GDPR art. 6(1)(c); GDPR art. 19": "AVG art. 6(1)(c); AVG art. 19",
    # where the privacy policy says it
    "Privacy policy art. 3, first bullet": "Privacyverklaring art. 3, eerste opsommingsteken",
    "Privacy policy art. 3, second bullet": "Privacyverklaring art. 3, tweede opsommingsteken",
    "Privacy policy art. 3, third bullet": "Privacyverklaring art. 3, derde opsommingsteken",
    "Privacy policy art. 3, fourth bullet": "Privacyverklaring art. 3, vierde opsommingsteken",
    "Privacy policy art. 3, fifth bullet": "Privacyverklaring art. 3, vijfde opsommingsteken",
    "Privacy policy art. 3 and 4": "Privacyverklaring art. 3 en 4",
    "Privacy policy art. 4": "Privacyverklaring art. 4",
    "Privacy policy art. 1 (execution of the Services) and art. 4 (access only by those authorised)":
        "Privacyverklaring art. 1 (uitvoering van de Diensten) en art. 4 (toegang alleen voor wie daartoe bevoegd is)",
    "Privacy policy art. 3, third bullet (legal obligations); this page, purposes":
        "Privacyverklaring art. 3, derde opsommingsteken (wettelijke verplichtingen); deze pagina, doeleinden",
    "Privacy policy, opening promise and art. 3": "Privacyverklaring, de belofte aan het begin en art. 3",
    # security measures and transfers
    "Numbers and e-mail addresses encrypted with AES-256-GCM, exact lookups through HMAC blind indexes":
        "Nummers en e-mailadressen versleuteld met AES-256-GCM, exact zoeken via blinde HMAC-indexen",
    "Call numbers encrypted under a key per month; a purged month's key is destroyed (crypto-shredding)":
        ("Nummers in gesprekken versleuteld met een sleutel per maand; de sleutel van een verwijderde maand wordt "
         "vernietigd (crypto-shredding)"),
    ("Every access to personal data bound to a purpose and recorded in a hash-chained, append-only audit "
     "log"):
        ("Elke inzage in persoonsgegevens gebonden aan een doel en vastgelegd in een auditlogboek dat alleen "
         "aangevuld kan worden en met hashes is geketend"),
    "Two-factor authentication for every staff role; least privilege through purposes per role":
        "Tweestapsverificatie voor elke medewerkersrol; minimale rechten via doeleinden per rol",
    "Automatic deletion by retention policy; legal holds; restriction (GDPR art. 18)":
        "Automatisch verwijderen volgens het bewaarbeleid; bewaarplichten; beperking (AVG art. 18)",
    "No transfers outside the EEA.": "Geen doorgifte buiten de EER.",
}
TRANSLATIONS: dict[str, dict[str, str]] = {"nl": DUTCH}


def register_cell(texts: str | Iterable[str], language: str) -> dict[str, str]:
    """A cell of the policy page's purposes table: {"text", "lang"}. The register's English `texts` (one text, or a
    list the cell joins with commas) in `language` where each has its translation; else as written, in English,
    with "lang": "en" for the page to mark it. "lang" is empty where the text is in `language`."""
    items = [texts] if isinstance(texts, str) else list(texts)
    table = TRANSLATIONS.get(language, {})
    if language == "en" or not all(item in table for item in items):
        return {"text": ", ".join(items), "lang": "" if language == "en" else "en"}
    return {"text": ", ".join(table[item] for item in items), "lang": ""}
