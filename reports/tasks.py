"""Celery tasks of the dashboards and reports: take ids, call a service,
safe to run twice (STYLE.md). The schedule is in ``center/celery.py``."""

from celery import shared_task  # noqa: F401

from center.celery import RETRY  # noqa: F401

# tasks: weathervane (part B)

# tasks: dashboards (part C)

# tasks: reports (part D)
