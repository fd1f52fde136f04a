from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from inspection.language import switch_language

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="inspection:home", permanent=False)),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/setlang/", switch_language, name="set_language"),
    path("admin/", admin.site.urls),
    path("api/", include("api.urls")),
    path("", include("inspection.urls")),
]
