"""The day's dashboard for operations managers and labeling admins."""
from django.shortcuts import render
from django.utils import timezone

from inference.services.days import parse_day
from inspection.services.dashboard import day_summary, run_percent
from inspection.views.access import permission_required
from inspection.views.models import HTMX_STOP_POLLING


@permission_required("inspection.view_dashboard")
def dashboard(request):
    day = parse_day(request.GET.get("date")) or timezone.localdate()
    summary = day_summary(day)
    for run in summary.runs:
        run.percent = run_percent(run)

    context = {"summary": summary, "day": day}
    if request.htmx:
        # htmx stops polling on status 286, which is sent once no run of the day is running.
        status = 200 if summary.has_running_run else HTMX_STOP_POLLING
        return render(request, "dashboard/_runs.html", context, status=status)
    return render(request, "dashboard/page.html", context)
