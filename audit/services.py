"""Recording changes in the audit log."""
import logging

from audit.models import AuditEntry

logger = logging.getLogger(__name__)


def record(actor, action, target, before=None, after=None):
    """Add an audit entry saying that `actor` did `action` to the model instance `target`.

    `actor` is a user, or None for the system (a scheduled task, a command). `before` and
    `after` are JSON-serialisable dicts of the fields that changed; dates and decimals are
    allowed. Call it inside the transaction of the change, so that the entry and the
    change are saved together or not at all.
    """
    meta = target._meta
    entry = AuditEntry.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        actor_name=actor.get_username() if actor is not None and actor.is_authenticated else "",
        action=action,
        target_type=meta.label_lower,
        target_id=str(target.pk),
        target_repr=str(target)[:200],
        before=before,
        after=after,
    )
    logger.info("audit: %s %s %s %s", entry.actor_name or "system", action, entry.target_type, entry.target_id)
    return entry


def history(target):
    """Return the audit entries of the model instance `target`, newest first."""
    return AuditEntry.objects.filter(target_type=target._meta.label_lower, target_id=str(target.pk)).select_related("actor")
