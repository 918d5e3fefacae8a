"""Events: invitations, public registration, check-in at the door, figures and the leads they produce.

``models`` (tables), ``services`` (the rules), ``views`` (organisers' pages), ``public`` (the
registration form without an account), ``reports`` (figures), ``kinds`` (the kinds of event,
plugins add theirs through ``liaison_event_kinds``).
"""
