"""The controlled vocabularies of a joint review.

One source for every enumerated column: the schema's CHECK constraints, the
intake forms' choices, the capture workbook's dropdowns and Datasette's column
descriptions are all built from these mappings (code → label shown to people).
Adding a value means a migration that rebuilds the CHECK, so add with care.
"""

from __future__ import annotations

REVIEW_TYPES = {
    "special_jar": "Special joint area review",
    "jar": "Joint area review",
    "jtai_front_door": "JTAI: the multi-agency front door",
    "jtai_thematic": "JTAI: thematic deep dive",
}

REVIEW_STATUSES = {
    "setup": "Setting up",
    "fieldwork": "Fieldwork",
    "drafting": "Drafting",
    "qa": "Quality assurance",
    "factual_accuracy": "Factual accuracy check",
    "published": "Published",
    "closed": "Closed",
}

AGENCY_TYPES = {
    "childrens_social_care": "Children's social care",
    "mash": "Multi-agency safeguarding hub (MASH)",
    "legal_services": "Legal services",
    "police": "Police",
    "police_cait": "Police child abuse investigation team (CAIT)",
    "emergency_department": "Emergency department",
    "paediatrics": "Paediatrics",
    "maternity": "Maternity",
    "health_visiting": "Health visiting",
    "school_nursing": "School nursing",
    "child_development": "Child development clinic",
    "gp": "GP practice",
    "school": "School",
    "nursery": "Nursery",
    "housing": "Housing",
    "probation": "Probation",
    "other": "Other",
}

INSPECTOR_ROLES = {
    "lead": "Lead inspector",
    "team": "Team inspector",
    "moderator": "Moderator",
}

AGE_BANDS = {
    "unborn": "Unborn",
    "under_1": "Under 1",
    "1_4": "1 to 4",
    "5_9": "5 to 9",
    "10_15": "10 to 15",
    "16_17": "16 to 17",
}

LEGAL_STATUSES = {
    "none": "None",
    "early_help": "Early help",
    "child_in_need": "Child in need",
    "cp_plan": "Child protection plan",
    "looked_after": "Looked after",
}

CP_CATEGORIES = {
    "neglect": "Neglect",
    "physical_abuse": "Physical abuse",
    "emotional_abuse": "Emotional abuse",
    "sexual_abuse": "Sexual abuse",
    "multiple": "Multiple categories",
}

SELECTION_ROUTES = {
    "listed": "Listed, not sampled",
    "sampled": "Sampled",
    "tracked": "Tracked",
    "locally_audited": "Locally audited",
    "index": "Index case",
}

ACTIVITIES = {
    "case_file_review": "Case file review",
    "case_tracking": "Case tracking",
    "interview": "Interview",
    "observation": "Observation",
    "child_family_conversation": "Conversation with child or family",
    "document_review": "Document review",
    "data_analysis": "Data analysis",
    "meeting": "Meeting",
}

FINDING_TYPES = {
    "strength": "Strength",
    "area_for_improvement": "Area for improvement",
    "serious_weakness": "Serious weakness",
    "context": "Context",
}

IMPACTS_ON_CHILD = {
    "positive": "Positive",
    "negative": "Negative",
    "none_identified": "None identified",
    "not_known": "Not known",
}

QA_STATUSES = {
    "draft": "Draft",
    "submitted": "Submitted",
    "returned": "Returned",
    "accepted": "Accepted",
    "withdrawn": "Withdrawn",
}

QA_ACTIONS = {
    "submit": "Submitted",
    "return": "Returned",
    "accept": "Accepted",
    "withdraw": "Withdrawn",
}

RELEVANCES = {"primary": "Primary", "secondary": "Secondary"}

DATE_PRECISIONS = {
    "day": "Exact day",
    "month": "Month only",
    "approximate": "Approximate",
}

EVENT_TYPES = {
    "referral": "Referral",
    "ed_attendance": "Emergency department attendance",
    "gp_appointment": "GP appointment",
    "home_visit": "Home visit",
    "child_seen_alone": "Child seen alone",
    "strategy_discussion": "Strategy discussion",
    "s47_enquiry": "Section 47 enquiry",
    "conference": "Child protection conference",
    "core_group": "Core group meeting",
    "assessment": "Assessment",
    "police_incident": "Police incident",
    "medical_examination": "Medical examination",
    "clinic_appointment": "Clinic appointment",
    "health_visit": "Health visitor contact",
    "school_contact": "School or nursery contact",
    "information_shared": "Information shared",
    "hospital_admission": "Hospital admission",
    "critical_incident": "Critical incident",
    "other": "Other contact",
}

JUDGEMENT_SCOPES = {"partnership": "Partnership", "agency": "Single agency"}

ALERT_STATUSES = {
    "raised": "Raised",
    "referred": "Referred",
    "responded": "Responded",
    "closed": "Closed",
}

ALERT_URGENCIES = {"urgent": "Urgent", "routine": "Routine"}

ACCOUNT_ROLES = {
    "inspector": "Inspector",
    "lead": "Lead inspector",
    "moderator": "Moderator",
    "admin": "Administrator",
}

ATTACHMENT_TYPES = {
    "application/pdf": "PDF",
    "image/png": "PNG image",
    "image/jpeg": "JPEG image",
}

DEFAULT_STRANDS = {
    "ofsted": ("Children's social care", "Ofsted"),
    "health": ("Health", "Care Quality Commission"),
    "police": ("Police", "HMICFRS"),
    "probation": ("Probation", "HM Inspectorate of Probation"),
    "education": ("Education", "Ofsted"),
}


def sql_in(codes) -> str:
    """Return a SQL ``IN (...)`` list of the given codes, quoted as literals."""
    return "(" + ", ".join("'" + code.replace("'", "''") + "'" for code in codes) + ")"
