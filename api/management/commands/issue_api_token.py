from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from rest_framework.authtoken.models import Token


class Command(BaseCommand):
    help = "Issue an API token to a user and print it; the token carries the user's role permissions."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument(
            "--replace",
            action="store_true",
            help="Issue a new token to a user who already has one; the old token stops working at once.",
        )

    def handle(self, username, replace=False, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        if not user.is_active:
            raise CommandError(f"User {username!r} is inactive; activate the account before issuing a token.")

        with transaction.atomic():
            existing = Token.objects.filter(user=user).first()
            if existing and not replace:
                raise CommandError(f"User {username!r} already has a token; pass --replace to issue a new one.")
            if existing:
                existing.delete()
            token = Token.objects.create(user=user)

        # Printed once: the key is the credential, so it goes to stdout alone for scripts to read.
        self.stdout.write(token.key)
        self.stderr.write(f"Issued an API token to {username}. Send it as: Authorization: Token <key>")
