from pathlib import Path

import polib
from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Compile the project's .po translation catalogues to .mo files (no system gettext needed)."

    def handle(self, **options):
        roots = [Path(root) for root in settings.LOCALE_PATHS]
        roots += [Path(config.path) / "locale" for config in apps.get_app_configs() if config.path.startswith(str(settings.BASE_DIR))]
        catalogues = sorted(path for root in roots for path in root.glob("*/LC_MESSAGES/*.po"))
        for po_path in catalogues:
            try:
                catalogue = polib.pofile(str(po_path))
            except OSError as error:
                raise CommandError(f"Cannot read {po_path}: {error}") from None
            catalogue.save_as_mofile(str(po_path.with_suffix(".mo")))
        self.stdout.write(f"Compiled {len(catalogues)} translation catalogues.")
