"""names per language for stations and regions; phone numbers as E.164

Revision ID: 0005_names
Revises: 0004_sessions
Create Date: 2026-11-26 20:40:00

Stations and regions already have ``name_zh`` (0001) and stations their pinyin ``sort_key``
(0002); what changes is that every screen and export picks the name in the reader's language.
This revision brings the stored data in line with issue 8:

* a station or region without a Chinese name keeps ``name_zh`` NULL, never "" (an empty string
  would hide the English name from Chinese readers), and a station's ``sort_key`` is recomputed
  from the name a Chinese reader sees;
* phone numbers are stored as E.164: contacts' ``phone`` (a number typed without "+" is read in
  the station's country) and stations' ``contact_phone``. A number that cannot be read stays as
  it was typed.

Data only, no schema change: it runs the same on SQLite and PostgreSQL.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005_names'
down_revision = '0004_sessions'
branch_labels = None
depends_on = None


def _pinyin_key(text):
    # A copy of liaison.models.base.sort_key as it was when this revision was written.
    from pypinyin import lazy_pinyin

    return " ".join(lazy_pinyin((text or "").strip())).casefold()[:400]


def _e164(raw, region):
    # A copy of liaison.forms.normalise_phone as it was when this revision was written.
    import phonenumbers

    if not raw or not raw.strip():
        return None
    try:
        number = phonenumbers.parse(raw, (region or "").upper() or None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def upgrade():
    connection = op.get_bind()
    regions = sa.table("regions", sa.column("id"), sa.column("name_zh"))
    connection.execute(regions.update().where(sa.func.trim(regions.c.name_zh) == "").values(name_zh=None))

    stations = sa.table("stations", sa.column("id"), sa.column("name"), sa.column("name_zh"),
                        sa.column("sort_key"), sa.column("country"), sa.column("contact_phone"))
    connection.execute(stations.update().where(sa.func.trim(stations.c.name_zh) == "").values(name_zh=None))
    country_of = {}
    for row in connection.execute(sa.select(stations.c.id, stations.c.name, stations.c.name_zh, stations.c.sort_key,
                                            stations.c.country, stations.c.contact_phone)).all():
        country_of[row.id] = row.country
        values = {}
        key = _pinyin_key(row.name_zh or row.name)
        if key != row.sort_key:
            values["sort_key"] = key
        e164 = _e164(row.contact_phone, row.country)
        if e164 and e164 != row.contact_phone:
            values["contact_phone"] = e164
        if values:
            connection.execute(stations.update().where(stations.c.id == row.id).values(**values))

    contacts = sa.table("contacts", sa.column("id"), sa.column("station_id"), sa.column("country"),
                        sa.column("phone"), sa.column("phone_e164"))
    rows = connection.execute(sa.select(contacts.c.id, contacts.c.station_id, contacts.c.country, contacts.c.phone)
                              .where(contacts.c.phone.is_not(None))).all()
    for row in rows:
        e164 = _e164(row.phone, country_of.get(row.station_id) or row.country)
        if e164:
            connection.execute(contacts.update().where(contacts.c.id == row.id)
                               .values(phone=e164, phone_e164=e164))


def downgrade():
    # The numbers as they were typed are not kept; E.164 is a valid value for the old code too.
    pass
