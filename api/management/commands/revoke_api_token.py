from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from rest_framework.authtoken.models import Token


class Command(BaseCommand):
    help = "Revoke a user's API token; requests with it get 401 from then on."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, username, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        deleted, _ = Token.objects.filter(user=user).delete()
        if not deleted:
            raise CommandError(f"User {username!r} has no API token.")
        self.stdout.write(f"Revoked the API token of {username}.")
