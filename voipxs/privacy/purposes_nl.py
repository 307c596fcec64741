"""The purposes table of the processing register in Dutch, for the public privacy-policy page (GDPR art. 12: the
policy in clear and plain language, for a Dutch reader in Dutch).

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
     "index), see its account and number details (never traffic), lift a sign-in lockout, reset a "
     "second factor with a recorded reason, open a rights request on the customer's behalf, and "
     "change how the customer's bills are itemised at their request (recording how they asked; "
     "the customer is told by e-mail)."):
        ("Supportmedewerkers zoeken, op verzoek van een klant, het account op aan de hand van een nummer of "
         "e-mailadres (blinde index), zien de gegevens van het account en de nummers (nooit het verkeer), heffen een "
         "inlogblokkade op, stellen een tweede factor opnieuw in met een vastgelegde reden, dienen namens de klant "
         "een verzoek in om zijn rechten uit te oefenen, en wijzigen op verzoek van de klant hoe zijn rekeningen "
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
