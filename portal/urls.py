from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("demo-backend/", include("operations.demo.urls")),
    path("", include("operations.urls")),
]
