"""URLs of the API: /api/v1/ resources, the OpenAPI schema and its two offline viewers."""
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from api.views.errors import NotFoundView
from api.views.models import InferenceRunViewSet, LabelViewSet, ModelVersionViewSet
from api.views.orders import WorkOrderViewSet
from api.views.photos import PhotoViewSet, PredictionViewSet
from api.views.queue import QueueViewSet
from api.views.reviews import ReviewViewSet

app_name = "api"

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("photos", PhotoViewSet, basename="photo")
router.register("predictions", PredictionViewSet, basename="prediction")
router.register("reviews", ReviewViewSet, basename="review")
router.register("orders", WorkOrderViewSet, basename="order")
router.register("labels", LabelViewSet, basename="label")
router.register("model-versions", ModelVersionViewSet, basename="model-version")
router.register("runs", InferenceRunViewSet, basename="run")

urlpatterns = [
    path("v1/queue/", QueueViewSet.as_view({"get": "show"}), name="queue"),
    path("v1/", include(router.urls)),
    # Any other path under v1/ (an id that is not a number, a typo) gets the JSON error
    # shape instead of Django's HTML 404 page.
    re_path(r"^v1/", NotFoundView.as_view()),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("schema/swagger/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="swagger"),
    path("schema/redoc/", SpectacularRedocView.as_view(url_name="api:schema", template_name="api/redoc.html"), name="redoc"),
]
