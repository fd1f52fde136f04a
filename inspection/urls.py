from django.urls import path

from inspection import views

app_name = "inspection"

urlpatterns = [
    path("queue/", views.queue, name="queue"),
    path("photos/<int:pk>/image/", views.photo_file, {"kind": "image"}, name="photo_image"),
    path("photos/<int:pk>/thumbnail/", views.photo_file, {"kind": "thumbnail"}, name="photo_thumbnail"),
]
