"""Schedules: the connector's cron rules (``cron``) and the loop that runs an export at each time (``runner``)."""
