"""Demo demands drawn from the seed documents (Wenzhou: new-energy vehicles, intelligent
manufacturing, fashion and accessory design, the mayor's cup of industrial design): a
new-energy-vehicle company's demand for battery engineers, matched to the demo's NEV talent in
Turin, Milan and Bangkok, and a design park's demand for fashion designers, matched in Milan.
Idempotent: demands are found by title, matches by (demand, contact). Called from
``liaison.demo.load`` after the core's demo data; every change goes through
``liaison.demands.services`` (consent checks, timeline, the lead an intent creates).
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from ..models import Contact, Region, TalentLead, User, db, utcnow
from .models import Demand, DemandMatch

DEMANDS = [
    {
        "title": "Battery-system engineers and an expert adviser for a new NEV plant",
        "organisation": "瑞安新能源汽车科技有限公司 (Rui'an New-Energy Vehicle Technology Co.)",
        "source_kind": "enterprise", "city": "Wenzhou", "contact_name": "林晓燕 Lin Xiaoyan",
        "contact_phone": "+86 577 6588 1234", "contact_email": "hr@ruian-nev.example", "kind": "hire",
        "requirements": "5+ years in battery systems or power electronics for electric vehicles; a PhD or senior "
                        "engineer; willing to work in Wenzhou at least six months a year.",
        "salary_range": "400,000–700,000 CNY a year", "funding": "Start-up grant up to 1 million CNY",
        "policy_support": "温州人才新政40条: talent apartment, children's schooling, spouse employment.",
        "fields": ["new-energy vehicles", "battery", "新能源汽车"], "regions": ["EUROPE", "ASEAN"],
        "days": 60,
    },
    {
        "title": "Fashion and accessory designers for the Ouhai design park",
        "organisation": "瓯海时尚设计产业园 (Ouhai Fashion Design Park)",
        "source_kind": "park", "city": "Wenzhou", "contact_name": "谢雯 Xie Wen",
        "contact_phone": "+86 577 8899 2020", "contact_email": "talent@ouhai-design.example",
        "kind": "project_cooperation",
        "requirements": "Designers or design schools to open studios in the park, run workshops with Wenzhou "
                        "University's college of fine arts and design (2+1+1 programme), judge the mayor's cup "
                        "of industrial design.",
        "salary_range": "", "funding": "Rent-free studio for three years",
        "policy_support": "Design studio subsidy; exhibition space at the park.",
        "fields": ["fashion and accessory design", "design"], "regions": ["EUROPE"], "days": 45,
    },
]

# (demand index, contact name, stages to move through after the introduction, note)
MATCHES = [
    (0, "Luca Ferrari", ["hold_meeting", "sign_intent", "land"], "Introduced at the Turin symposium."),
    (0, "Lin Jiayi", ["hold_meeting", "sign_intent"], "PhD on battery thermal management; online interview."),
    (0, "Chen Zhiming", ["hold_meeting"], "Met at the China–ASEAN Expo roadshow."),
    (1, "Zheng Xiaodong", ["hold_meeting", "sign_intent"], "Wants a studio for his brand's design centre."),
    (1, "Giulia Bianchi", [], "Istituto Marangoni's programme director: workshops."),
]


def load(created: dict[str, int]) -> None:
    from sqlalchemy.orm import selectinload

    from . import services
    from .models import DemandRegion

    hq = db.session.scalar(select(User).where(User.email == "hq@liaison.example"))
    if hq is None:
        return
    regions = {r.code: r.id for r in db.session.scalars(select(Region))}
    demands = []
    for number, spec in enumerate(DEMANDS):
        demand = db.session.scalar(select(Demand).where(Demand.title == spec["title"]))
        if demand is None:
            data = {k: (v or None) for k, v in spec.items() if k not in ("fields", "regions", "days")}
            data["deadline"] = (utcnow() + timedelta(days=spec["days"])).date()
            demand = services.create_demand(hq, data, fields=spec["fields"],
                                            region_ids=[regions[c] for c in spec["regions"] if c in regions])
            created["demands"] = created.get("demands", 0) + 1
        demands.append(demand.id)
    for index, name, moves, note in MATCHES:
        demand = db.session.scalar(select(Demand).where(Demand.id == demands[index]).options(
            selectinload(Demand.field_rows), selectinload(Demand.region_rows).selectinload(DemandRegion.region)))
        contact = db.session.scalar(select(Contact).where(Contact.name == name))
        if contact is None or db.session.scalar(select(DemandMatch.id).where(
                DemandMatch.demand_id == demand.id, DemandMatch.contact_id == contact.id)):
            continue
        lead = db.session.scalar(select(TalentLead).where(TalentLead.contact_id == contact.id)
                                 .order_by(TalentLead.id).limit(1))
        try:
            match = services.record_match(demand, contact, hq, lead=lead, note=note)
        except services.IllegalMove:  # no consent to pass the profile on: not introduced
            db.session.rollback()
            continue
        created["matches"] = created.get("matches", 0) + 1
        for move in moves:
            services.move_match(match, move, hq, comment=None)
