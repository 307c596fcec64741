"""package_signing_key [--new]: the key disclosure packages are signed with (disclosures/signing.py).

Without options: the signing key's fingerprint, when it was made, and its public key (hex, for
`verify_package --public-key`, and PEM, for the authority's own tools), then every older key that still
vouches for the packages it signed. With `--new`: make a new key, which signs from now on; run it once before
the first package, so the public key can reach the authorities ahead of any package, and again to rotate.
The private key is never shown."""
from __future__ import annotations

from django.core.management.base import BaseCommand

from disclosures.models import PackageSigningKey
from disclosures.signing import public_key_pem, signing_key_create
from voipxs.privacy.purposes import SystemActor

COMMAND_ACTOR = SystemActor("manage:package_signing_key")


class Command(BaseCommand):
    help = "Show the package signing key's public half, or make a new signing key (--new)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--new", action="store_true",
                            help="make a new signing key (the first, or a rotation); older keys stay published")

    def handle(self, *args, new: bool, **options) -> None:
        if new:
            key = signing_key_create(actor=COMMAND_ACTOR)
            self.stdout.write(self.style.SUCCESS(f"New signing key {key.fingerprint}: packages are signed with it "
                                                 "from now on. Send its public key to the authorities."))
        keys = list(PackageSigningKey.objects.order_by("-created_at", "-pk").only("fingerprint", "public_key",
                                                                                   "created_at"))
        if not keys:
            self.stdout.write("No signing key yet: make one with --new before the first package.")
            return
        current, *older = keys
        self.stdout.write(f"Signing key {current.fingerprint}, made {current.created_at:%Y-%m-%d %H:%M} UTC\n"
                          f"public key (hex): {current.public_key}\n{public_key_pem(current)}")
        for key in older:
            self.stdout.write(f"older key {key.fingerprint}, made {key.created_at:%Y-%m-%d %H:%M} UTC, "
                              f"public key (hex): {key.public_key}")
