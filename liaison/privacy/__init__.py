"""Personal-data protection (docs/privacy.md).

One module owns each rule: ``classification`` (which columns are personal, how sensitive),
``masking`` (who sees what, reveals, the access log), ``consent`` (lawful basis per purpose and
the gates that enforce it), ``subject`` (the subject access report), ``erasure`` (two-person
erasure with retention exceptions) and ``retention`` (rules that run from cron). The tables are
in ``liaison.models.privacy``.
"""
