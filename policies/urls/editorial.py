"""Addresses for the editorial pages."""

urlpatterns: list = []
