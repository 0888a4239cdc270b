"""Addresses for the manager pages."""

urlpatterns: list = []
