from django.urls import path

from catalog import views

app_name = "catalog"

urlpatterns = [
    path("", views.catalog, name="catalog"),
    path("apis/<slug:api_slug>/", views.api_detail, name="api_detail"),
]
