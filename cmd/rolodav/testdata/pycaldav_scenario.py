#!/usr/bin/python3
"""A python-caldav 0.11 session (Debian's python3-caldav) against rolodav.

Usage: pycaldav_scenario.py URL USER PASSWORD

Each step prints what it does and checks what python-caldav got back; the
first failure prints "FAIL: ..." and exits 1. python-caldav's own protocol
checks raise instead of only logging (PYTHON_CALDAV_DEBUGMODE=DEVELOPMENT),
so a malformed answer fails the step that received it.
"""

import os
import sys
import traceback

os.environ.setdefault("PYTHON_CALDAV_DEBUGMODE", "DEVELOPMENT")

import datetime as dt  # noqa: E402

import caldav  # noqa: E402
from caldav.lib import error  # noqa: E402

UTC = dt.timezone.utc
STEP = [0]


def step(what):
    STEP[0] += 1
    print("[%02d] %s" % (STEP[0], what), flush=True)


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


BERLIN = """BEGIN:VTIMEZONE
TZID:Europe/Berlin
BEGIN:DAYLIGHT
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
TZNAME:CEST
DTSTART:19700329T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
END:DAYLIGHT
BEGIN:STANDARD
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
TZNAME:CET
DTSTART:19701025T030000
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
END:STANDARD
END:VTIMEZONE"""


def vcal(*parts):
    body = "\n".join(["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//rolodav//pycaldav scenario//EN"] + list(parts) + ["END:VCALENDAR"])
    return body.replace("\n", "\r\n") + "\r\n"


def vevent(uid, summary, *lines):
    return "\n".join(["BEGIN:VEVENT", "UID:" + uid, "DTSTAMP:20260101T000000Z", "SUMMARY:" + summary] + list(lines) + ["END:VEVENT"])


SINGLE = vcal(BERLIN, vevent("pyc-single", "Dentist", "DTSTART;TZID=Europe/Berlin:20261124T090000", "DTEND;TZID=Europe/Berlin:20261124T100000"))
WEEKLY = vcal(BERLIN, vevent("pyc-weekly", "Standup", "DTSTART;TZID=Europe/Berlin:20260105T083000", "DTEND;TZID=Europe/Berlin:20260105T090000", "RRULE:FREQ=WEEKLY;BYDAY=MO"))
EXTRA = vcal(vevent("pyc-extra", "Holiday", "DTSTART;VALUE=DATE:20261225", "DTEND;VALUE=DATE:20261226"))
TODO_OPEN = vcal("\n".join(["BEGIN:VTODO", "UID:pyc-todo-open", "DTSTAMP:20260101T000000Z", "SUMMARY:Buy milk", "DUE;VALUE=DATE:20261201", "STATUS:NEEDS-ACTION", "END:VTODO"]))
TODO_PLAIN = vcal("\n".join(["BEGIN:VTODO", "UID:pyc-todo-plain", "DTSTAMP:20260101T000000Z", "SUMMARY:Read a book", "END:VTODO"]))
TODO_DONE = vcal("\n".join(["BEGIN:VTODO", "UID:pyc-todo-done", "DTSTAMP:20260101T000000Z", "SUMMARY:Old chore", "STATUS:COMPLETED", "COMPLETED:20260102T100000Z", "END:VTODO"]))


def uid_of(obj):
    return str(obj.icalendar_component["UID"])


def uids(objs):
    return sorted(uid_of(o) for o in objs)


def summary_of(obj):
    return str(obj.icalendar_component["SUMMARY"])


def names(principal):
    return sorted(c.name for c in principal.calendars())


def main(url, user, password):
    step("DAVClient(%s).principal()" % url)
    client = caldav.DAVClient(url, username=user, password=password)
    principal = client.principal()
    check("/dav/principals/" in str(principal.url), "principal URL %s" % principal.url)

    step("principal.calendars() shows the default calendar and task list")
    cals = {c.name: c for c in principal.calendars()}
    check("Calendar" in cals and "Tasks" in cals, "calendars: %s" % sorted(cals))
    check(cals["Calendar"].get_supported_components() == ["VEVENT"], "Calendar components %s" % cals["Calendar"].get_supported_components())
    check(cals["Tasks"].get_supported_components() == ["VTODO"], "Tasks components %s" % cals["Tasks"].get_supported_components())
    tasks = principal.calendar(name="Tasks")

    step("make_calendar(name='Trips')")
    trips = principal.make_calendar(name="Trips", cal_id="pyc-trips")
    check("Trips" in names(principal), "new calendar not listed: %s" % names(principal))
    check(trips.get_display_name() == "Trips", "display name %r" % trips.get_display_name())

    step("save_event: a single event and a weekly recurring one (TZID Europe/Berlin)")
    single = trips.save_event(SINGLE)
    weekly = trips.save_event(WEEKLY)
    extra = trips.save_event(EXTRA)
    check(str(single.url).endswith("/pyc-trips/pyc-single.ics"), "event URL %s" % single.url)
    check(len(trips.events()) == 3, "events(): %s" % uids(trips.events()))

    june = (dt.datetime(2026, 6, 1, tzinfo=UTC), dt.datetime(2026, 7, 1, tzinfo=UTC))
    step("search(event=True) in June 2026 without expand finds the series once")
    found = trips.search(start=june[0], end=june[1], event=True)
    check(uids(found) == ["pyc-weekly"], "June 2026: %s" % uids(found))
    check("RRULE:FREQ=WEEKLY" in found[0].data, "unexpanded answer lost its RRULE:\n%s" % found[0].data)

    step("search(event=True, expand=True) in June 2026: five Mondays, expanded by the server")
    xml, _ = trips.build_search_xml_query(event=True, start=june[0], end=june[1], expand=True)
    raw = trips.search(xml)
    check(len(raw) == 1, "expanded query returned %d objects" % len(raw))
    check("RRULE" not in raw[0].data and raw[0].data.count("RECURRENCE-ID") == 5, "server did not expand the series:\n%s" % raw[0].data)
    found = trips.search(start=june[0], end=june[1], event=True, expand=True)
    starts = sorted(o.icalendar_component["DTSTART"].dt.astimezone(UTC) for o in found)
    want = [dt.datetime(2026, 6, d, 6, 30, tzinfo=UTC) for d in (1, 8, 15, 22, 29)]
    check(uids(found) == ["pyc-weekly"] * 5 and starts == want, "instances: %s %s" % (uids(found), starts))

    step("date_search in the week of 23 Nov 2026 finds both events")
    found = trips.date_search(dt.datetime(2026, 11, 23, tzinfo=UTC), dt.datetime(2026, 11, 30, tzinfo=UTC))
    check(uids(found) == ["pyc-single", "pyc-weekly"], "week of 23 Nov: %s" % uids(found))

    step("freebusy_request on 24 Nov 2026")
    fb = trips.freebusy_request(dt.datetime(2026, 11, 24, tzinfo=UTC), dt.datetime(2026, 11, 25, tzinfo=UTC))
    check("BEGIN:VFREEBUSY" in fb.data and "20261124T080000Z" in fb.data, "free-busy:\n%s" % fb.data)

    step("save_todo in Tasks; todos() lists the open ones")
    todo_open = tasks.save_todo(TODO_OPEN)
    tasks.save_todo(TODO_PLAIN)
    tasks.save_todo(TODO_DONE)
    check(uids(tasks.todos()) == ["pyc-todo-open", "pyc-todo-plain"], "todos(): %s" % uids(tasks.todos()))
    check(uids(tasks.todos(include_completed=True)) == ["pyc-todo-done", "pyc-todo-open", "pyc-todo-plain"], "todos(include_completed=True): %s" % uids(tasks.todos(include_completed=True)))
    todo_open.complete()
    check(uids(tasks.todos()) == ["pyc-todo-plain"], "todos() after complete(): %s" % uids(tasks.todos()))

    step("save_todo into the events-only Calendar is refused (403 -> AuthorizationError)")
    try:
        cals["Calendar"].save_todo(TODO_PLAIN.replace("pyc-todo-plain", "pyc-todo-wrong"))
    except (error.AuthorizationError, error.PutError):
        pass
    else:
        raise AssertionError("a VTODO was accepted in a VEVENT-only calendar")

    step("object_by_uid finds the event and the task")
    check(uid_of(trips.object_by_uid("pyc-single")) == "pyc-single", "object_by_uid(pyc-single)")
    check(summary_of(tasks.object_by_uid("pyc-todo-plain")) == "Read a book", "object_by_uid(pyc-todo-plain)")
    try:
        trips.object_by_uid("pyc-nonexistent")
    except error.NotFoundError:
        pass
    else:
        raise AssertionError("object_by_uid found an event that does not exist")

    step("objects_by_sync_token: initial")
    synced = trips.objects_by_sync_token(load_objects=True)
    token0 = synced.sync_token
    check(token0, "no sync token")
    check(sorted(str(o.url) for o in synced) == sorted(str(o.url) for o in (single, weekly, extra)), "initial sync: %s" % [str(o.url) for o in synced])
    check(all(o.data and "BEGIN:VEVENT" in o.data for o in synced), "load_objects=True did not load the events")

    step("edit an event and save it")
    ev = trips.object_by_uid("pyc-single")
    ev.vobject_instance.vevent.summary.value = "Dentist (moved)"
    ev.save()
    again = caldav.Event(client=client, url=ev.url, parent=trips).load()
    check(summary_of(again) == "Dentist (moved)", "after save: %s" % summary_of(again))

    step("delete an event")
    extra.delete()
    try:
        caldav.Event(client=client, url=extra.url, parent=trips).load()
    except error.NotFoundError:
        pass
    else:
        raise AssertionError("deleted event still loads")

    step("objects_by_sync_token after a change and a deletion")
    changes = trips.objects_by_sync_token(sync_token=token0)
    check(changes.sync_token and changes.sync_token != token0, "token after changes: %r (was %r)" % (changes.sync_token, token0))
    check(sorted(str(o.url) for o in changes) == sorted([str(single.url), str(extra.url)]), "changes since token0: %s" % [str(o.url) for o in changes])
    updated, deleted = synced.sync()
    check([str(o.url) for o in updated] == [str(single.url)], "sync() updated %s" % [str(o.url) for o in updated])
    check([str(o.url) for o in deleted] == [str(extra.url)], "sync() deleted %s" % [str(o.url) for o in deleted])
    check(sorted(str(u) for u in synced.objects_by_url()) == sorted([str(single.url), str(weekly.url)]), "collection after sync(): %s" % list(synced.objects_by_url()))
    nothing = trips.objects_by_sync_token(sync_token=synced.sync_token)
    check(len(list(nothing)) == 0, "sync with the newest token returned %s" % [str(o.url) for o in nothing])

    step("delete the calendar")
    trips.delete()
    check("Trips" not in names(principal), "deleted calendar still listed: %s" % names(principal))

    print("OK: %d steps passed" % STEP[0])


if __name__ == "__main__":
    if len(sys.argv) != 4:
        print(__doc__)
        sys.exit(2)
    try:
        main(*sys.argv[1:4])
    except Exception as e:  # every failure, protocol or assertion, ends the run
        traceback.print_exc()
        print("FAIL: step %d: %s: %s" % (STEP[0], type(e).__name__, e), flush=True)
        sys.exit(1)
