"""Everything that needs torch. Only Celery workers and management commands import it."""
