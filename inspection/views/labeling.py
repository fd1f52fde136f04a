"""The labeling admin's screens: relabelling photos and editing the label scheme."""
from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from inspection.forms import LabelForm, RelabelFilterForm, RelabelForm
from inspection.services.labels import save_label_change
from inspection.models import Label
from inspection.services.relabel import attach_labels, relabel_candidates, training_label_count
from inspection.views.access import permission_required, safe_next

PAGE_SIZE = 48


@permission_required("inspection.relabel_photo")
def relabel(request):
    if request.method == "POST":
        return relabel_submit(request)
    filter_form = RelabelFilterForm(request.GET or None)
    page = Paginator(relabel_candidates(filter_form.relabel_filters()), PAGE_SIZE).get_page(request.GET.get("page"))
    attach_labels(page.object_list)
    query = request.GET.copy()
    query.pop("page", None)

    context = {
        "filter_form": filter_form,
        "relabel_form": RelabelForm(),
        "page": page,
        "photos": page.object_list,
        "query": query.urlencode(),
        "training_label_count": training_label_count(),
    }
    return render(request, "labeling/relabel.html", context)


def relabel_submit(request):
    form = RelabelForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(safe_next(request, request.path))

    count = form.save(request.user)
    messages.success(
        request,
        ngettext("%(count)d photo relabelled.", "%(count)d photos relabelled.", count) % {"count": count},
    )
    return redirect(safe_next(request, request.path))


@permission_required("inspection.manage_labels")
def label_scheme(request):
    form = LabelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        label = save_label_change(request.user, None, form.save)
        messages.success(request, _("Label %(code)s added; it enters training at the next run.") % {"code": label.code})
        return redirect("inspection:labels")

    context = {"form": form, "labels": Label.objects.all()}
    return render(request, "labeling/labels.html", context, status=400 if form.errors else 200)
