"""Addresses for the employee pages."""

urlpatterns: list = []
