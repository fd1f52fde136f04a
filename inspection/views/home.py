from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render


@login_required
def home(request):
    """Open the first screen the user's role may see."""
    for permission, url_name in (
        ("inspection.view_queue", "inspection:queue"),
        ("inspection.manage_orders", "inspection:orders"),
        ("inspection.relabel_photo", "inspection:relabel"),
        ("inspection.view_dashboard", "inspection:dashboard"),
    ):
        if request.user.has_perm(permission):
            return redirect(url_name)
    return render(request, "home/no_role.html", status=403)
