from django.urls import path

from inspection.views import audit, dashboard, home, labeling, models, orders, photos, queue

app_name = "inspection"

urlpatterns = [
    path("home/", home.home, name="home"),
    path("queue/", queue.queue, name="queue"),
    path("queue/photos/<int:pk>/review/", queue.review, name="review"),
    path("queue/photos/<int:pk>/undo/", queue.undo, name="undo"),
    path("queue/cars/<int:car_pk>/dispatch/", queue.dispatch, name="dispatch"),
    path("queue/orders/<int:pk>/withdraw/", queue.withdraw, name="withdraw"),
    path("photos/<int:pk>/", photos.photo_detail, name="photo_detail"),
    path("photos/<int:pk>/image/", photos.photo_file, {"kind": "image"}, name="photo_image"),
    path("photos/<int:pk>/thumbnail/", photos.photo_file, {"kind": "thumbnail"}, name="photo_thumbnail"),
    path("orders/", orders.order_list, name="orders"),
    path("orders/<int:pk>/status/", orders.order_status, name="order_status"),
    path("orders/export.csv", orders.order_export, {"file_type": "csv"}, name="orders_csv"),
    path("orders/export.xlsx", orders.order_export, {"file_type": "xlsx"}, name="orders_xlsx"),
    path("labeling/relabel/", labeling.relabel, name="relabel"),
    path("labeling/labels/", labeling.label_scheme, name="labels"),
    path("labeling/models/", models.model_list, name="models"),
    path("labeling/models/<int:pk>/threshold/", models.model_threshold, name="model_threshold"),
    path("labeling/models/<int:pk>/activate/", models.model_activate, name="model_activate"),
    path("labeling/models/<int:pk>/figures/<slug:name>/", models.model_figure, name="model_figure"),
    path("labeling/training/", models.training_start, name="training_start"),
    path("labeling/training/<int:pk>/", models.training_job, name="training_job"),
    path("labeling/audit/", audit.audit_log, name="audit_log"),
    path("dashboard/", dashboard.dashboard, name="dashboard"),
]
