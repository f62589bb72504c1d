from django.urls import path, re_path

from gateway import product_views, tryit_views, views

app_name = "gateway"

urlpatterns = [
    path(
        "subscriptions/<int:subscription_id>/try-it-key",
        tryit_views.try_it_key,
        name="try_it_key",
    ),
    path("products/", product_views.product_list, name="product_list"),
    path("products/<slug:product_slug>/", product_views.product_detail, name="product_detail"),
    path("products/<slug:product_slug>/subscribe", product_views.subscribe, name="subscribe"),
    path("subscriptions/", product_views.subscription_list, name="subscription_list"),
    path(
        "subscriptions/<int:subscription_id>/",
        product_views.subscription_detail,
        name="subscription_detail",
    ),
    path(
        "subscriptions/<int:subscription_id>/keys/<str:slot>/",
        product_views.subscription_key,
        name="subscription_key",
    ),
    path(
        "subscriptions/<int:subscription_id>/keys/<str:slot>/regenerate",
        product_views.regenerate_key,
        name="regenerate_key",
    ),
    path(
        "subscriptions/<int:subscription_id>/cancel",
        product_views.cancel_subscription,
        name="cancel_subscription",
    ),
    # Everything under /gateway/ is an API call, whatever its path.
    re_path(r"^gateway/(?P<rest>.*)\Z", views.gateway, name="gateway"),
]
