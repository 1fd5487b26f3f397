from django.urls import path

from . import views

urlpatterns = [
    path("ServiceProviderConfig", views.service_provider_config, name="scim-config"),
    path("ResourceTypes", views.resource_types, name="scim-resource-types"),
    path("Schemas", views.schemas, name="scim-schemas"),
    path("Users", views.users_view, name="scim-users"),
    path("Users/<str:pk>", views.user_view, name="scim-user"),
    path("Groups", views.groups_view, name="scim-groups"),
    path("Groups/<str:group_id>", views.group_view, name="scim-group"),
]
