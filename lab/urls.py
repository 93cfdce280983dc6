from django.urls import path

from lab import views

urlpatterns = [
    path("", views.LabView.as_view(), name="lab"),
    path("holders/", views.HoldersLabView.as_view(), name="lab-holders"),
]
