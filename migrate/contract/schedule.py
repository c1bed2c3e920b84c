"""Scheduled-task workloads: a Kubernetes CronJob (or Job) per task trigger, never a Deployment.

A VM whose only work is scheduled tasks must not become a container that restarts its job
forever. The schedule comes from the task's triggers as the collector records them
(`ScheduledTasks[].Triggers`, inventory-format addition): Daily and Weekly triggers, with an
optional repetition, become cron schedules; Boot and Logon become a Job that runs once; Once
becomes a suspended Job; a trigger that cron cannot express exactly is approximated and the
approximation is written on the object. Times are the VM's local time: Kubernetes reads a
schedule in `spec.timeZone` (unset: the controller manager's zone), which the inventory does not
know, so the annotation says to set it.
"""

from __future__ import annotations

import datetime
import re

from .model import Trigger, Workload
from .names import task_label

_DAY_NUMBERS = {"Sunday": 0, "Monday": 1, "Tuesday": 2, "Wednesday": 3, "Thursday": 4, "Friday": 5, "Saturday": 6}
_DURATION = re.compile(r"P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?")
_CRONJOB_NAME_MAX = 52  # a CronJob's Jobs append 11 characters to its name (Kubernetes CronJob docs)


def cron_schedule(trigger: Trigger) -> tuple[str | None, list[str]]:
    """Return (cron schedule or None when cron cannot run it, notes on any approximation)."""
    kind = trigger.type
    if kind not in ("Daily", "Weekly"):
        return None, []
    notes: list[str] = []
    match = re.search(r"T(\d{2}):(\d{2})", trigger.start_boundary or "")
    hour, minute = (int(match.group(1)), int(match.group(2))) if match else (0, 0)
    if not match:
        notes.append("the trigger has no start time: midnight assumed")
    if kind == "Daily":
        every = trigger.days_interval or 1
        day_of_month, day_of_week = ("*" if every == 1 else f"*/{every}"), "*"
        if every > 1:
            notes.append(f"every {every} days becomes days of the month {day_of_month}, restarting each month")
    else:
        days = sorted(_DAY_NUMBERS[d] for d in trigger.days_of_week or () if d in _DAY_NUMBERS)
        start_day = _weekday(trigger.start_boundary or "")
        if not days and start_day is not None:
            days = [start_day]  # Task Scheduler's weekly default: the start date's day
        day_of_month, day_of_week = "*", ",".join(map(str, days)) if days else "*"
        if not days:
            notes.append("the weekly trigger names no day and has no start date: every day assumed")
        if (trigger.weeks_interval or 1) > 1:
            notes.append(f"every {trigger.weeks_interval} weeks becomes every week: cron has no week interval")
    minutes, hours = str(minute), str(hour)
    repetition = _minutes(trigger.repetition_interval)
    if repetition:
        if repetition < 60 and 60 % repetition == 0:
            start = minute % repetition
            minutes, hours = (f"*/{repetition}" if start == 0 else f"{start}-59/{repetition}"), "*"
            notes.append(f"repeats every {repetition} minutes all day (the repetition's duration is not recorded)")
        elif repetition % 60 == 0 and 24 % (repetition // 60) == 0:
            step, first = repetition // 60, hour % (repetition // 60)
            hours = "*" if step == 1 else f"*/{step}" if first == 0 else f"{first}-23/{step}"
            notes.append(f"repeats every {repetition // 60} hours all day (the repetition's duration is not recorded)")
        else:
            notes.append(f"the repetition every {trigger.repetition_interval} has no cron form: it runs once per day")
    return f"{minutes} {hours} {day_of_month} * {day_of_week}", notes


def _weekday(start: str) -> int | None:
    """Return the cron day of week (Sunday 0) of an ISO local time's date, or None."""
    try:
        return (datetime.date.fromisoformat(start[:10]).weekday() + 1) % 7
    except ValueError:
        return None


def _minutes(duration: str) -> int | None:
    match = _DURATION.fullmatch(duration or "")
    if not match or not duration:
        return None
    days, hours, minutes, _ = (int(g) if g else 0 for g in match.groups())
    return days * 1440 + hours * 60 + minutes or None


def batch_objects(workload: Workload, label: str, labels: dict, pod: dict, task_commands: list[str]) -> list[dict]:
    """Return a CronJob or Job per trigger of each scheduled task; `pod` is the workload's pod spec."""
    objects: list[dict] = []
    used: set[str] = set()
    for task, command in zip(workload.container.scheduled_tasks, task_commands):
        triggers = task.triggers
        for index, trigger in enumerate(triggers if triggers else [Trigger("Other")]):
            name = _name(label, task.task_name, index, used)
            template = {"metadata": {"labels": labels},
                        "spec": {**pod, "restartPolicy": "OnFailure",
                                 "containers": [dict(pod["containers"][0], command=[command])]}}
            job_spec = {"backoffLimit": 2, "template": template}
            note = _note(task.task_name, trigger, triggers)
            schedule, approximations = cron_schedule(trigger)
            metadata = {"name": name, "labels": labels,
                        "annotations": {"hyperdock.io/task": task.task_name,
                                        "hyperdock.io/note": " ".join([note] + [a + "." for a in approximations])}}
            if trigger.type in ("Once", "Boot", "Logon"):
                # Once already ran on the VM: kept suspended. Boot and Logon ran at start: once, now.
                objects.append({"apiVersion": "batch/v1", "kind": "Job", "metadata": metadata,
                                "spec": {**job_spec, "suspend": trigger.type == "Once"}})
                continue
            objects.append({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": metadata, "spec": {
                "schedule": schedule or "0 0 * * *",
                "suspend": schedule is None,
                "concurrencyPolicy": "Forbid",  # Task Scheduler's default: no second instance
                "jobTemplate": {"metadata": {"labels": labels}, "spec": job_spec},
            }})
    return objects


def _note(task: str, trigger: Trigger, triggers: tuple[Trigger, ...] | None) -> str:
    if triggers is None:
        return (f"The inventory did not record the triggers of task {task!r}: set the schedule and unsuspend."
                " Collect again with a collector that records ScheduledTasks[].Triggers.")
    kind = trigger.type
    start = trigger.start_boundary
    if kind == "Once":
        return f"Task {task!r} ran once on the VM ({start or 'time unknown'}): unsuspend to run it again."
    if kind in ("Boot", "Logon"):
        return f"Task {task!r} ran at {kind.lower()}: this Job runs it once when applied."
    if kind == "Other":
        return f"Task {task!r} has a trigger cron cannot express: set the schedule and unsuspend."
    return (f"Schedule from task {task!r} ({kind}, from {start or 'an unknown start'}) in the VM's local time:"
            " set spec.timeZone to the VM's zone.")


def _name(label: str, task: str, index: int, used: set[str]) -> str:
    """Return a unique CronJob/Job name of at most 52 characters."""
    suffix = task_label(task) + (f"-{index + 1}" if index else "")
    base = f"{label}-{suffix}"[:_CRONJOB_NAME_MAX].rstrip("-")
    name, n = base, 2
    while name in used:
        tail = f"-{n}"
        name = base[:_CRONJOB_NAME_MAX - len(tail)].rstrip("-") + tail
        n += 1
    used.add(name)
    return name
