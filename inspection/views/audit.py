"""The labeling admin's audit log: who reviewed, relabelled, changed an order or a model, and when."""
from django import forms
from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from audit.models import AuditEntry
from inspection.models import Label
from inspection.views.access import permission_required
from inspection.views.audit_values import entry_changes, target_name

PAGE_SIZE = 50

# The actions the services record, as people read them; an action missing here shows its code.
ACTION_NAMES = {
    "photo.review": _("Photo reviewed"),
    "photo.undo_review": _("Review undone"),
    "photo.relabel": _("Photo relabelled"),
    "work_order.dispatch": _("Order dispatched"),
    "work_order.add": _("Photos added to an order"),
    "work_order.change_status": _("Order status changed"),
    "work_order.withdraw": _("Order withdrawn"),
    "model_version.activate": _("Model version activated"),
    "model_version.set_threshold": _("OOD threshold changed"),
    "label.create": _("Label added"),
    "label.update": _("Label changed"),
}


class AuditFilterForm(forms.Form):
    action = forms.ChoiceField(label=_("Action"), choices=[("", _("All"))] + list(ACTION_NAMES.items()), required=False)
    actor = forms.CharField(label=_("User"), required=False, max_length=150)

    def filter(self, entries):
        if not self.is_bound or not self.is_valid():
            return entries
        if self.cleaned_data["action"]:
            entries = entries.filter(action=self.cleaned_data["action"])
        if self.cleaned_data["actor"]:
            entries = entries.filter(actor_name__icontains=self.cleaned_data["actor"])
        return entries


@permission_required("audit.view_auditentry")
def audit_log(request):
    form = AuditFilterForm(request.GET or None)
    page = Paginator(form.filter(AuditEntry.objects.all()), PAGE_SIZE).get_page(request.GET.get("page"))
    label_names = {label.code: label.display_name for label in Label.objects.all()}
    for entry in page.object_list:
        entry.action_name = ACTION_NAMES.get(entry.action, entry.action)
        entry.changes = entry_changes(entry, label_names)
        entry.target_name = target_name(entry)
    query = request.GET.copy()
    query.pop("page", None)

    context = {"form": form, "page": page, "entries": page.object_list, "query": query.urlencode()}
    return render(request, "audit/page.html", context)
