"""The web process serves predictions from the database and never loads torch."""
import os
import subprocess
import sys

from tests.conftest import PROJECT_ROOT

WEB_IMPORTS = """
import sys, django
django.setup()
from django.urls import get_resolver
resolver = get_resolver()
resolver.url_patterns  # import every URLconf and view module
import sofar_site.wsgi, inference.tasks, inference.services.runs, inspection.services.queue
loaded = sorted(name for name in sys.modules if name == "torch" or name.startswith("torch."))
print("torch modules:", loaded[:5])
sys.exit(1 if loaded else 0)
"""


def test_web_process_imports_no_torch():
    result = subprocess.run(
        [sys.executable, "-c", WEB_IMPORTS],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "sofar_site.settings.test"},
        timeout=120,
    )

    assert result.returncode == 0, result.stdout + result.stderr
