from django.urls import path

from openapi import views

app_name = "openapi"

urlpatterns = [
    path("apis/<slug:api_slug>/openapi.json", views.openapi_json, name="openapi_json"),
    path("apis/<slug:api_slug>/openapi.yaml", views.openapi_yaml, name="openapi_yaml"),
]
