"""Page fragments rendered once for every user allowed to see them, with each user's parts filled in per request.

A shared fragment contains placeholders where it would show something of one user: the CSRF
token of its forms, and each car's open work orders, which only their author may withdraw.
Placeholders are elements no escaped text can contain, so a photo's name never turns into one.
"""
import re

from django.middleware.csrf import get_token
from django.template import Context
from django.template.loader import get_template, render_to_string
from django.utils.html import format_html
from django.utils.safestring import mark_safe

CSRF_SLOT = mark_safe("<sofar-csrf></sofar-csrf>")
ORDERS_SLOT = re.compile(r'<sofar-orders car="(\d+)"></sofar-orders>')


def orders_slot(car_pk):
    return format_html('<sofar-orders car="{}"></sofar-orders>', car_pk)


def render_shared(request, template_name, context):
    """Render `template_name` with a CSRF placeholder; the result may be shown to any user."""
    return render_to_string(template_name, {**context, "csrf_token": CSRF_SLOT}, request=request)


def personalise(request, html, open_orders_by_car):
    """Put the request's CSRF token and each car's open orders, as this user sees them, in `html`.

    `open_orders_by_car(car_ids)` returns {car id: [open orders]}.
    """
    token = get_token(request)
    html = html.replace(CSRF_SLOT, token)
    car_ids = {int(car_id) for car_id in ORDERS_SLOT.findall(html)}
    orders = open_orders_by_car(car_ids) if car_ids else {}
    # Most cars have no open order; the template renders only for those that do.
    template = get_template("queue/_car_orders.html").template
    rendered = {
        car_id: template.render(Context({"open_orders": car_orders, "user": request.user, "request": request, "csrf_token": token}))
        for car_id, car_orders in orders.items()
    }
    return mark_safe(ORDERS_SLOT.sub(lambda match: rendered.get(int(match.group(1)), ""), html))
