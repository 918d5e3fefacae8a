"""Policy notices (政策推送): HQ publishes a notice to all stations or chosen regions, stations or
kinds of host organisation; the targeted stations' volunteers are notified, see the notice on
their home page and acknowledge it; HQ sees, per station, who read and who acknowledged it; a
public page per notice (an unguessable address, both languages, a QR code) is for the stations'
WeChat groups.

Notices go to **stations** only. Targeting contacts (by field or kind) would reach people
outside the app and needs their consent: such a feature must ask
``liaison.privacy.consent.may_contact(contact, Purpose.POLICY_NEWS)`` for every contact first.
"""
