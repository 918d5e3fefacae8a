"""Volunteer appointments (联络员聘任): a volunteer's terms at a station, the appointment letter,
renewal reminders and the daily end of terms.

A renewal is a new appointment for the same volunteer and station. Every day (``jobs run-due``)
a job removes the station membership of volunteers whose last term there ended without a renewal
(audited; the appointments stay), and reminders go to the volunteer and the region's admins
``APPOINTMENT_REMINDER_DAYS`` (default 30) before a term ends. Volunteers without any
appointment at a station keep their membership: appointments are recorded where they exist.
"""
