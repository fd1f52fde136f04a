import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "On a fresh local install with no users, create the superuser 'admin' with a random password."

    def handle(self, **options):
        User = get_user_model()
        password_file = settings.DATA_DIR / "admin-password.txt"
        if User.objects.exists():
            if password_file.exists():
                self.stdout.write(f"Log in as 'admin' with the password in {password_file}.")
            return
        password = secrets.token_urlsafe(12)
        User.objects.create_superuser("admin", password=password)
        password_file.write_text(password + "\n")
        password_file.chmod(0o600)
        self.stdout.write(self.style.SUCCESS(f"Created the superuser 'admin' with password {password} (also in {password_file})."))
