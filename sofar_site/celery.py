"""Celery application: reads the `CELERY_` settings and Django's logging set-up."""
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sofar_site.settings.local")

app = Celery("sofar_site")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def create_filesystem_broker_folders(sender, **kwargs):
    # kombu's filesystem transport expects its folders to exist already.
    if sender.conf.broker_url.startswith("filesystem://"):
        from pathlib import Path

        for key in ("data_folder_in", "data_folder_out", "control_folder"):
            folder = sender.conf.broker_transport_options.get(key)
            if folder:
                Path(folder).mkdir(parents=True, exist_ok=True)
