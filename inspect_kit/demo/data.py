"""The fictional content of the Ashbridge demo review (docs/architecture.md §7).

Data only, no database: the borough's services, the inspection team and its
accounts, the practitioner roles, the text templates findings and chronology
events are generated from, and the index case C-017's storyline.
:mod:`inspect_kit.demo` turns it into a review through the domain library.

Everything here is invented. People appear by role only, children by case
reference only; place and service names are generic. No text may contain a
run of digits shaped like an identifier (see ``demo.IDENTIFIER_RE``): the
only two that do are planted on purpose by ``demo``.
"""

from __future__ import annotations

from typing import NamedTuple

# ----------------------------------------------------------------- services

COUNCIL = "Ashbridge Council children's social care"
POLICE = "Ashbridge Police"
HOSPITALS = "Ashbridge Hospitals NHS Trust"
COMMUNITY = "Ashbridge Community Health NHS Trust"
PRIMARY_CARE = "Ashbridge GP practices"
SCHOOLS = "Ashbridge schools"
EARLY_YEARS = "Ashbridge early years"
HOUSING = "Ashbridge Council housing"


class AgencySpec(NamedTuple):
    """One inspected service. ``key`` names it inside the generator only."""

    key: str
    name: str
    organisation: str
    agency_type: str
    lead_strand: str
    service: str  # how evidence text refers to it


AGENCIES: tuple[AgencySpec, ...] = (
    AgencySpec("mash", "Ashbridge MASH (children's social care)", COUNCIL, "mash", "ofsted", "the MASH"),
    AgencySpec("team1", "Safeguarding team 1 (north)", COUNCIL, "childrens_social_care", "ofsted",
               "safeguarding team 1"),
    AgencySpec("team2", "Safeguarding team 2 (central)", COUNCIL, "childrens_social_care", "ofsted",
               "safeguarding team 2"),
    AgencySpec("team3", "Safeguarding team 3 (south)", COUNCIL, "childrens_social_care", "ofsted",
               "safeguarding team 3"),
    AgencySpec("legal", "Children's legal services", COUNCIL, "legal_services", "ofsted", "children's legal services"),
    AgencySpec("police_mash", "Ashbridge Police MASH desk", POLICE, "mash", "police", "the police MASH desk"),
    AgencySpec("cait", "Ashbridge Police child abuse investigation team", POLICE, "police_cait", "police",
               "the CAIT"),
    AgencySpec("response", "Ashbridge Police response teams", POLICE, "police", "police",
               "police response teams"),
    AgencySpec("ed", "Ashbridge Hospitals emergency department", HOSPITALS, "emergency_department", "health",
               "the emergency department"),
    AgencySpec("paeds", "Ashbridge Hospitals paediatrics", HOSPITALS, "paediatrics", "health",
               "hospital paediatrics"),
    AgencySpec("maternity", "Ashbridge Hospitals maternity", HOSPITALS, "maternity", "health",
               "the maternity service"),
    AgencySpec("hv", "Community health visiting", COMMUNITY, "health_visiting", "health",
               "the health visiting service"),
    AgencySpec("school_nursing", "Community school nursing", COMMUNITY, "school_nursing", "health",
               "the school nursing service"),
    AgencySpec("cdc", "Child development clinic", COMMUNITY, "child_development", "health",
               "the child development clinic"),
    AgencySpec("gp1", "Canal Street Surgery", PRIMARY_CARE, "gp", "health", "Canal Street Surgery"),
    AgencySpec("gp2", "Millbrook Health Centre", PRIMARY_CARE, "gp", "health", "Millbrook Health Centre"),
    AgencySpec("gp3", "Northgate Medical Practice", PRIMARY_CARE, "gp", "health", "Northgate Medical Practice"),
    AgencySpec("gp4", "Elm Park Surgery", PRIMARY_CARE, "gp", "health", "Elm Park Surgery"),
    AgencySpec("gp5", "Station Road Surgery", PRIMARY_CARE, "gp", "health", "Station Road Surgery"),
    AgencySpec("gp6", "Westfield Health Centre", PRIMARY_CARE, "gp", "health", "Westfield Health Centre"),
    AgencySpec("school1", "Northgate Primary School", SCHOOLS, "school", "ofsted", "Northgate Primary School"),
    AgencySpec("school2", "Canal Side Infant School", SCHOOLS, "school", "ofsted", "Canal Side Infant School"),
    AgencySpec("school3", "Ashbridge Academy", SCHOOLS, "school", "ofsted", "Ashbridge Academy"),
    AgencySpec("school4", "Westfield Primary School", SCHOOLS, "school", "ofsted", "Westfield Primary School"),
    AgencySpec("nursery1", "Riverside Children's Centre nursery", EARLY_YEARS, "nursery", "ofsted",
               "the Riverside nursery"),
    AgencySpec("nursery2", "Little Steps Day Nursery", EARLY_YEARS, "nursery", "ofsted", "Little Steps Day Nursery"),
    AgencySpec("housing", "Ashbridge Council housing", HOUSING, "housing", "ofsted", "the housing service"),
)

TEAMS = ("team1", "team2", "team3")
GPS = ("gp1", "gp2", "gp3", "gp4", "gp5", "gp6")
SCHOOLS_KEYS = ("school1", "school2", "school3", "school4")
NURSERIES = ("nursery1", "nursery2")

# ----------------------------------------------------------------- the inspection team


class InspectorSpec(NamedTuple):
    code: str
    strand: str
    role: str  # vocab.INSPECTOR_ROLES


INSPECTORS: tuple[InspectorSpec, ...] = (
    InspectorSpec("OFS-01", "ofsted", "lead"),
    InspectorSpec("OFS-02", "ofsted", "team"),
    InspectorSpec("OFS-03", "ofsted", "team"),
    InspectorSpec("OFS-04", "ofsted", "team"),
    InspectorSpec("HLT-01", "health", "team"),
    InspectorSpec("HLT-02", "health", "team"),
    InspectorSpec("POL-01", "police", "team"),
    InspectorSpec("POL-02", "police", "team"),
    InspectorSpec("MOD-01", "ofsted", "moderator"),
)

DEMO_PASSWORD = "ashbridge-demo"
"""The one documented password of every demo account (never use the demo for real work)."""


class AccountSpec(NamedTuple):
    username: str
    role: str  # vocab.ACCOUNT_ROLES
    strand: str | None
    inspector_code: str | None


ACCOUNTS: tuple[AccountSpec, ...] = (
    AccountSpec("admin", "admin", None, None),
    AccountSpec("lead", "lead", "ofsted", "OFS-01"),
    AccountSpec("moderator", "moderator", "ofsted", "MOD-01"),
    AccountSpec("ofsted2", "inspector", "ofsted", "OFS-02"),
    AccountSpec("ofsted3", "inspector", "ofsted", "OFS-03"),
    AccountSpec("ofsted4", "inspector", "ofsted", "OFS-04"),
    AccountSpec("health1", "inspector", "health", "HLT-01"),
    AccountSpec("health2", "inspector", "health", "HLT-02"),
    AccountSpec("police1", "inspector", "police", "POL-01"),
    AccountSpec("police2", "inspector", "police", "POL-02"),
)

# Evidence records per strand (docs/architecture.md §7) and their finding-type mix.
FINDINGS_PER_STRAND = {"ofsted": 360, "health": 190, "police": 170}
FINDING_TYPE_SHARES = {"strength": 0.35, "area_for_improvement": 0.45, "serious_weakness": 0.08, "context": 0.12}
CASE_LINKED_SHARE = 0.70

# ----------------------------------------------------------------- practitioner roles

ROLES_BY_AGENCY_TYPE: dict[str, tuple[str, ...]] = {
    "mash": ("MASH social worker", "MASH team manager", "MASH police officer"),
    "childrens_social_care": ("social worker", "duty social worker", "team manager", "family support worker",
                              "child protection conference chair", "independent reviewing officer"),
    "legal_services": ("local authority solicitor",),
    "police_cait": ("CAIT detective constable", "CAIT detective sergeant"),
    "police": ("police response officer", "police sergeant"),
    "emergency_department": ("emergency department nurse", "emergency department doctor",
                             "emergency department consultant"),
    "paediatrics": ("paediatric registrar", "consultant paediatrician", "named doctor for safeguarding"),
    "maternity": ("midwife", "safeguarding midwife"),
    "health_visiting": ("health visitor", "community nursery nurse", "named nurse for safeguarding"),
    "school_nursing": ("school nurse",),
    "child_development": ("community paediatrician", "locum paediatrician", "child development clinic administrator"),
    "gp": ("GP", "practice nurse", "GP practice administrator"),
    "school": ("designated safeguarding lead", "class teacher", "head teacher"),
    "nursery": ("nursery key worker", "nursery manager"),
    "housing": ("housing officer",),
}

PRACTITIONER_ROLES: frozenset[str] = frozenset(role for roles in ROLES_BY_AGENCY_TYPE.values() for role in roles)
"""Every ``practitioner_role`` the demo writes: roles, never names."""

# ----------------------------------------------------------------- finding texts
#
# A finding's evidence text is an activity lead-in + an observation (by
# criterion and polarity, in a case form and a service form) + sometimes a
# detail sentence; its evaluation text follows the finding type.

ACTIVITY_LEADS_CASE = {
    "case_file_review": ("Case file review of {case} ({record}):", "Reviewed the {record} for {case}:"),
    "case_tracking": ("Case tracking of {case} with the {role}:", "Tracked {case} with the {role} and the manager:"),
    "interview": ("Interview with the {role} about {case}:",),
    "child_family_conversation": ("Conversation with the parent of {case}:", "Conversation with {case}'s carer:"),
    "meeting": ("Observed a core group meeting for {case}:", "Attended a multi-agency meeting about {case}:"),
    "observation": ("Observed the {role} working on {case}:",),
}
ACTIVITY_LEADS_SERVICE = {
    "interview": ("Interview with the {role} in {service}:", "Focus group with front-line staff in {service}:",
                  "Interview with the safeguarding lead for {service}:"),
    "observation": ("Observation in {service}:", "Observed practice in {service}:"),
    "document_review": ("Review of {service}'s safeguarding policy and action plans:",
                        "Review of board papers and reports from {service}:"),
    "data_analysis": ("Analysis of {service}'s performance data for the last two quarters:",
                      "Analysis of the data supplied by {service} before fieldwork:"),
    "meeting": ("Meeting with managers of {service}:",),
}

CASE_OBSERVATIONS: dict[str, dict[str, tuple[str, ...]]] = {
    "1": {
        "pos": ("Actions from the last serious case review were applied in {case}: the {role} sought the child's "
                "previous records from the family's former area.",),
        "neg": ("In {case} the {role} did not follow the practice changes promised after the last serious case "
                "review: the child was not seen alone and previous records were not checked.",),
    },
    "2.1": {
        "pos": ("When a concern about {case} was raised, {service} responded the same day; the {role} checked "
                "previous history and made a clear referral.",
                "The {role} in {service} recognised early signs of neglect for {case} (missed appointments, poor "
                "hygiene) and acted before the concerns escalated.",
                "In {case} the {role} saw an injury that did not fit the explanation and referred with a body map "
                "within the hour."),
        "neg": ("Concerns about {case} were noted by the {role} in {service} on three occasions over two months "
                "before a referral was made.",
                "In {case} a referral from {service} was rated as below the threshold without speaking to the "
                "referrer or checking previous history.",
                "The {role} in {service} recorded a bruise on {case} but accepted the parent's explanation without "
                "seeking a second opinion or referring.",
                "For {case}, {service} did not recognise repeated missed appointments as a possible sign of "
                "neglect."),
    },
    "2.2": {
        "pos": ("The {record} for {case} holds an up-to-date chronology and an assessment that analyses risk and "
                "uses the child's own words.",
                "The child protection plan for {case} is specific, with named actions, timescales and outcomes that "
                "can be measured.",
                "Recording for {case} by the {role} is timely and shows why each decision was taken."),
        "neg": ("The {record} for {case} has no chronology; key events, including a previous referral, are only in "
                "case notes.",
                "The assessment for {case} describes the family's history but does not analyse risk or say what "
                "must change for the child.",
                "The plan for {case} lists services rather than outcomes; actions have no timescales and several "
                "were not done.",
                "Records of visits to {case} do not say whether the child was seen alone or what the child said."),
    },
    "2.3": {
        "pos": ("In {case} the strategy discussion was held within a day with police, health and social care, and "
                "its decisions were recorded and shared.",
                "The {role} in {service} shared information about {case} promptly with the social worker and "
                "attended every core group.",
                "Agencies working with {case} had a shared view of risk; the core group challenged slow progress "
                "and escalated it."),
        "neg": ("For {case}, the strategy discussion was between social care and police only; health, who held "
                "relevant information, were not invited.",
                "Information held by {service} about an adult in {case}'s household was not shared with the social "
                "worker or the core group.",
                "{service_cap} was not invited to the child protection conference for {case} and did not receive "
                "the plan.",
                "Disagreement between agencies about the risk to {case} was not escalated under the escalation "
                "procedure."),
    },
    "3.1": {
        "pos": ("Management oversight on {case}'s file shows senior managers tracking the case after the board's "
                "multi-agency audit.",),
        "neg": ("Senior managers in {service} were unaware of the drift in {case}; no oversight is recorded for "
                "five months.",),
    },
    "3.2": {
        "pos": ("{case} was picked up by {service}'s monthly audit, and the actions it set were completed.",),
        "neg": ("{case} had been audited by {service} as good although the plan had not progressed for four "
                "months.",),
    },
    "3.3": {
        "pos": ("The {role} working with {case} has regular reflective supervision; the notes challenge the plan "
                "and set actions.",
                "The {role} working with {case} had recent safeguarding training and used it: the child was seen "
                "alone and the plan updated."),
        "neg": ("{case} has had four social workers in six months because of vacancies; each change delayed the "
                "plan.",
                "The {role} who saw {case} was a locum without access to previous records or a safeguarding "
                "induction."),
    },
}

SERVICE_OBSERVATIONS: dict[str, dict[str, tuple[str, ...]]] = {
    "1": {
        "pos": ("The serious case review action plan is up to date; {service} has completed its actions and can "
                "show how practice changed.",
                "Learning from the last serious case review reached front-line staff in {service} through "
                "briefings; staff could describe it."),
        "neg": ("{service_cap} cannot show that actions from the last serious case review were completed; the plan "
                "marks them complete without evidence.",
                "Staff in {service} could not describe the learning from the last serious case review."),
    },
    "2.1": {
        "pos": ("{service_cap} has clear referral routes; the {role} could explain thresholds and when to consult "
                "the MASH.",
                "Screening in {service} is timely: {k} of {m} contacts sampled were decided within 24 hours."),
        "neg": ("Thresholds are not well understood in {service}: the {role} described referring only when a child "
                "was visibly injured.",
                "Only {k} of {m} contacts sampled in {service} were screened within 24 hours; the backlog was not "
                "reported to managers."),
    },
    "2.2": {
        "pos": ("An audit of {m} records in {service} found assessments completed on time and of good quality in "
                "most.",
                "{service_cap} uses a standard chronology template, completed in {k} of {m} records sampled."),
        "neg": ("In {service}, {k} of {m} records sampled had no up-to-date chronology.",
                "Assessments in {service} are often descriptive and do not analyse risk to the child."),
    },
    "2.3": {
        "pos": ("Information sharing between {service} and children's social care works well; the {role} is told "
                "about plans and reviews.",
                "{service_cap} attends strategy discussions and conferences consistently: {pct} % last quarter."),
        "neg": ("{service_cap} is not routinely invited to strategy discussions; the {role} said they learn of them "
                "afterwards.",
                "Conference attendance by {service} is poor ({pct} % last quarter) and reports are often late."),
    },
    "3.1": {
        "pos": ("The local safeguarding children board receives regular reports from {service} and challenges "
                "them; minutes show actions followed up.",
                "Governance of safeguarding in {service} is clear: a named lead reports to the board each "
                "quarter."),
        "neg": ("The local safeguarding children board has not scrutinised {service}'s safeguarding performance in "
                "the last year.",
                "Board minutes show reports from {service} noted without challenge or follow-up."),
    },
    "3.2": {
        "pos": ("{service_cap} uses performance data well: monthly reports on timeliness are discussed at team "
                "meetings and acted on.",
                "Case audits in {service} are moderated and lead to actions that are tracked to completion."),
        "neg": ("Performance reports in {service} count activity (visits, meetings) but not quality or outcomes "
                "for children.",
                "The audit programme in {service} has lapsed; no audits were completed in the last six months."),
    },
    "3.3": {
        "pos": ("Staff in {service} have up-to-date safeguarding training ({pct} % compliance) and regular "
                "supervision.",
                "Safe recruitment checks in {service} are complete in all {m} staff files sampled.",
                "Newly qualified staff in {service} have protected caseloads and weekly supervision."),
        "neg": ("Safeguarding training compliance in {service} is {pct} %; locum staff are left out of the "
                "figures.",
                "Vacancies in {service} are covered by locums who have no induction on local safeguarding "
                "procedures.",
                "{k} of {m} staff files sampled in {service} lack a complete recruitment check."),
    },
}

CONTEXT_CASE = (
    "{case} lives with their mother and two siblings; the family moved into the borough last year.",
    "{case} has been known to {service} since birth; there were two earlier periods of child in need support.",
    "{case} has a disability and attends a specialist provision; several agencies are involved.",
)
CONTEXT_SERVICE = (
    "{service_cap} was restructured last year; the {role} role is new.",
    "{service_cap} is working to an improvement plan agreed after the last inspection.",
    "Caseloads in {service} average {k} children per practitioner; managers say demand rose this year.",
    "{service_cap} moved to a new electronic record system in the spring; older records are on paper.",
)

DETAILS_NEGATIVE = (
    "The same pattern was seen in {k} of the {m} cases sampled.",
    "Managers were not aware of this until the inspection.",
    "The {role} said workload meant this was common.",
    "",
    "",
)
DETAILS_POSITIVE = (
    "This was consistent across the cases seen.",
    "Staff said managers expect and support this.",
    "",
    "",
)
SERIOUS_DETAIL = (
    "Children were left at risk of significant harm as a result.",
    "This was found in several of the cases sampled and managers had not identified it.",
)

EVALUATIONS = {
    "1": ("learning from serious case reviews is embedded in practice",
          "learning from serious case reviews has not changed practice"),
    "2.1": ("concerns about children are identified and acted on quickly",
            "risks to children are not identified or acted on quickly enough"),
    "2.2": ("records and plans help practitioners understand and reduce risk",
            "records and plans do not help practitioners understand or reduce risk"),
    "2.3": ("agencies share what they know and act together",
            "agencies do not share what they know, so no one sees the whole picture"),
    "3.1": ("leaders know and challenge safeguarding performance",
            "leaders do not know or challenge safeguarding performance"),
    "3.2": ("performance management drives improvement",
            "performance management does not test the quality of practice"),
    "3.3": ("staff are trained, supervised and safely recruited",
            "staffing, training and supervision do not support safe practice"),
}

RECORD_BY_AGENCY_TYPE = {
    "mash": "MASH record", "childrens_social_care": "social care record", "legal_services": "legal file",
    "police_cait": "police crime record", "police": "police incident log", "emergency_department": "ED record",
    "paediatrics": "hospital notes", "maternity": "maternity record", "health_visiting": "health visiting record",
    "school_nursing": "school nursing record", "child_development": "clinic notes", "gp": "GP record",
    "school": "school safeguarding file", "nursery": "nursery safeguarding file", "housing": "housing file",
}

RETURN_COMMENTS = (
    "The evaluation does not say what the impact on the child was; please add it.",
    "Please say how many cases this is based on.",
    "Two agencies' practice is mixed here; split it into two records.",
    "Criterion 2.2 looks a better fit than the one chosen; please check.",
    "The evidence paraphrases a manager's view; what did you see in the records?",
)
EDIT_REASONS = (
    "Added the impact on the child as asked at QA.",
    "Added the number of cases the finding is based on.",
    "Clarified which agency's practice this is about.",
)
WITHDRAW_REASONS = (
    "Duplicate of a finding recorded by a colleague from the same meeting.",
    "Recorded against the wrong case; re-recorded correctly.",
)

# ----------------------------------------------------------------- chronology texts
#
# (event_type, role, description, flag) where flag is "good", "missed", "key"
# or None. Descriptions may use {injury}, {minor}, {dev}, {disclosure},
# {category}, {n}.


class EventTemplate(NamedTuple):
    event_type: str
    role: str
    description: str
    flag: str | None = None
    ages: tuple[str, ...] | None = None  # age bands it fits; None: any


BORN = ("under_1", "1_4", "5_9", "10_15", "16_17")
PRESCHOOL = ("under_1", "1_4")
SCHOOL_AGE = ("5_9", "10_15", "16_17")


FILLS = {
    "injury": ("a cut to the forehead", "a burn to the back of the hand", "bruising to the forearm",
               "a wrist injury after a fall", "a head injury after a fall in the park", "a dog bite to the leg",
               "a scald to the arm"),
    "minor": ("a chest infection", "eczema", "an ear infection", "constipation", "a rash", "a cough and cold",
              "a sore throat"),
    "dev": ("development within the expected range", "speech delay; referred to speech and language therapy",
            "weight below the 2nd centile; growth to be monitored", "motor delay; physiotherapy referral made"),
    "disclosure": ("being hit with a belt", "being left alone at night", "violence between the adults at home",
                   "not having enough to eat"),
    "category": ("neglect", "emotional abuse", "physical abuse"),
}

REFERRAL_TEMPLATES: dict[str, tuple[EventTemplate, ...]] = {
    "school": (EventTemplate("referral", "designated safeguarding lead",
                             "Referral to the MASH after the child disclosed {disclosure} to the class teacher.",
                             "key"),
               EventTemplate("referral", "designated safeguarding lead",
                             "Referral to the MASH about poor attendance, hunger and unwashed clothes over a term.",
                             "key")),
    "nursery": (EventTemplate("referral", "nursery manager",
                              "Referral to the MASH after the key worker saw bruising to the child's back; body map "
                              "attached.", "key"),),
    "emergency_department": (EventTemplate("referral", "emergency department doctor",
                                           "Referral to the MASH after an attendance with {injury}; the explanation "
                                           "changed during the visit.", "key"),),
    "police": (EventTemplate("referral", "police response officer",
                             "Referral to the MASH after a domestic incident at the home; the child was present.",
                             "key"),),
    "health_visiting": (EventTemplate("referral", "health visitor",
                                      "Referral to the MASH about home conditions and the mother's low mood; the "
                                      "infant's weight is falling.", "key"),),
    "maternity": (EventTemplate("referral", "safeguarding midwife",
                                "Pre-birth referral to the MASH: mother disclosed previous social care involvement "
                                "and a violent former partner.", "key"),),
}

MASH_SCREENING = (
    EventTemplate("assessment", "MASH social worker",
                  "Referral screened in the MASH; checks with police, health and education completed within 24 "
                  "hours; passed to the safeguarding team.", "good"),
    EventTemplate("assessment", "MASH team manager",
                  "MASH decision: threshold for a child and family assessment met; allocated to the safeguarding "
                  "team."),
    EventTemplate("assessment", "MASH social worker",
                  "Referral screened; decision to offer early help without speaking to the referrer.", "missed"),
)
POLICE_CHECKS = (
    EventTemplate("information_shared", "MASH police officer",
                  "Police checks returned to the MASH: two domestic incidents at the address in the last year."),
    EventTemplate("information_shared", "MASH police officer",
                  "Police checks returned to the MASH: no police history for the household."),
    EventTemplate("information_shared", "MASH police officer",
                  "Police checks returned to the MASH five days after the request, after the screening decision.",
                  "missed"),
)

CP_PATHWAY = {
    "strategy": (
        EventTemplate("strategy_discussion", "team manager",
                      "Strategy discussion (social care, police and health present); section 47 enquiry agreed.",
                      "key"),
        EventTemplate("strategy_discussion", "team manager",
                      "Strategy discussion by telephone between social care and police only; health not invited.",
                      "missed"),
    ),
    "s47": (
        EventTemplate("s47_enquiry", "social worker",
                      "Section 47 enquiry completed: concerns substantiated; initial child protection conference "
                      "requested.", "key"),
    ),
    "icpc": (
        EventTemplate("conference", "child protection conference chair",
                      "Initial child protection conference: child made subject of a plan under the category of "
                      "{category}.", "key"),
    ),
    "review_conference": (
        EventTemplate("conference", "child protection conference chair",
                      "Review child protection conference: plan continued; all agencies sent reports."),
        EventTemplate("conference", "child protection conference chair",
                      "Review child protection conference: plan continued; police and the GP sent no report."),
    ),
    "core_group": (
        EventTemplate("core_group", "social worker", "Core group meeting: plan reviewed; actions mostly completed."),
        EventTemplate("core_group", "social worker",
                      "Core group meeting: little progress on the plan; actions carried forward."),
        EventTemplate("core_group", "social worker",
                      "Core group meeting: the GP was not invited and the health visitor sent apologies."),
    ),
}

CIN_PATHWAY = {
    "assessment": (
        EventTemplate("assessment", "social worker",
                      "Child and family assessment completed within 35 working days; child in need plan agreed."),
        EventTemplate("assessment", "social worker",
                      "Child and family assessment completed late; the analysis of risk is brief."),
    ),
    "meeting": (
        EventTemplate("other", "social worker", "Child in need meeting: plan reviewed with the parent, school and "
                      "health visitor."),
        EventTemplate("other", "social worker", "Child in need meeting: the parent did not attend; plan not "
                      "reviewed."),
    ),
}

LAC_PATHWAY = {
    "legal": (
        EventTemplate("other", "local authority solicitor",
                      "Legal planning meeting: threshold for care proceedings met; application to court agreed.",
                      "key"),
    ),
    "review": (
        EventTemplate("other", "independent reviewing officer",
                      "Looked after review: care plan endorsed; the child's views were presented by the child."),
        EventTemplate("other", "independent reviewing officer",
                      "Looked after review held late; the child had not been visited in the placement for 8 weeks."),
    ),
}

# Routine contacts, by agency type.
CONTACTS: dict[str, tuple[EventTemplate, ...]] = {
    "childrens_social_care": (
        EventTemplate("home_visit", "social worker",
                      "Statutory home visit: child seen with the parent present; not seen alone."),
        EventTemplate("home_visit", "social worker",
                      "Home visit: home conditions poor (little food, dirty bedding); advice given and a further "
                      "visit booked."),
        EventTemplate("home_visit", "duty social worker", "Unannounced visit: no answer; card left."),
        EventTemplate("home_visit", "family support worker",
                      "Family support session at home on routines and school mornings.", None, SCHOOL_AGE),
        EventTemplate("home_visit", "family support worker",
                      "Family support session at home on routines, play and bedtimes.", None, PRESCHOOL),
        EventTemplate("home_visit", "social worker",
                      "Home visit: the child was in bed and not seen; visit recorded as completed.", "missed", BORN),
        EventTemplate("home_visit", "social worker",
                      "Pre-birth visit: mother seen alone; the birth plan and the father's role discussed.", None,
                      ("unborn",)),
        EventTemplate("child_seen_alone", "social worker",
                      "Child seen alone at school; wishes and feelings recorded in the child's own words.", "good",
                      SCHOOL_AGE),
        EventTemplate("child_seen_alone", "social worker",
                      "Child seen alone in their bedroom; talked about school and friends.", None, SCHOOL_AGE),
        EventTemplate("child_seen_alone", "social worker",
                      "Child seen apart from the parent and undressed for a skin check with the health visitor.",
                      "good", PRESCHOOL),
    ),
    "police": (
        EventTemplate("police_incident", "police response officer",
                      "Police attended a domestic incident at the home; the child was present and was spoken to; "
                      "notification sent to the MASH the same day.", "good"),
        EventTemplate("police_incident", "police response officer",
                      "Police attended a domestic incident; the child was not seen; the notification reached the "
                      "MASH 9 days later.", "missed"),
        EventTemplate("police_incident", "police sergeant",
                      "Child reported missing from home; found after 6 hours and returned; return interview "
                      "requested."),
        EventTemplate("police_incident", "police response officer",
                      "Neighbour reported shouting at the address; officers spoke to the parent at the door."),
    ),
    "police_cait": (
        EventTemplate("police_incident", "CAIT detective constable",
                      "CAIT investigation: child interviewed on video; no further action on the evidence."),
        EventTemplate("police_incident", "CAIT detective sergeant",
                      "CAIT reviewed the referral and filed it without a strategy discussion.", "missed"),
    ),
    "emergency_department": (
        EventTemplate("ed_attendance", "emergency department nurse",
                      "Attended with {injury}; explanation consistent with the injury; discharged with advice; "
                      "community health notified."),
        EventTemplate("ed_attendance", "emergency department doctor",
                      "Attended with {injury}; the child protection information system was not checked.", "missed"),
        EventTemplate("ed_attendance", "emergency department nurse",
                      "Attended with {minor}; seen and discharged; no concerns recorded."),
    ),
    "paediatrics": (
        EventTemplate("medical_examination", "consultant paediatrician",
                      "Child protection medical; findings shared with social care the same day.", "good"),
        EventTemplate("clinic_appointment", "paediatric registrar",
                      "Outpatient appointment: the child was not brought; a second appointment sent by post."),
        EventTemplate("hospital_admission", "paediatric registrar",
                      "Admitted with {minor}; discharged after 2 days; discharge summary sent to the GP."),
    ),
    "maternity": (
        EventTemplate("clinic_appointment", "midwife",
                      "Antenatal appointment: mother attended alone; screening questions about abuse asked and "
                      "recorded."),
        EventTemplate("clinic_appointment", "midwife", "Antenatal appointment missed; not followed up.", "missed"),
    ),
    "health_visiting": (
        EventTemplate("health_visit", "health visitor", "Developmental review: {dev}.", None, PRESCHOOL),
        EventTemplate("health_visit", "health visitor",
                      "Antenatal contact: mother's mood and support at home discussed.", None, ("unborn",)),
        EventTemplate("health_visit", "health visitor",
                      "Home visit: home conditions poor; concern shared with the social worker the same day.",
                      "good"),
        EventTemplate("health_visit", "community nursery nurse",
                      "Planned contact missed: family not at home; no follow-up recorded.", "missed"),
        EventTemplate("health_visit", "health visitor", "Clinic contact: weight and feeding reviewed; no concerns.",
                      None, PRESCHOOL),
    ),
    "school_nursing": (
        EventTemplate("clinic_appointment", "school nurse", "School nurse drop-in: the child spoke about sleeping "
                      "badly and worries at home."),
        EventTemplate("clinic_appointment", "school nurse", "Health assessment completed in school; {dev}."),
    ),
    "child_development": (
        EventTemplate("clinic_appointment", "community paediatrician", "Developmental assessment: {dev}."),
        EventTemplate("clinic_appointment", "locum paediatrician",
                      "Follow-up by a locum paediatrician; previous notes not available in clinic."),
    ),
    "gp": (
        EventTemplate("gp_appointment", "GP", "Seen with {minor}; no safeguarding concerns recorded."),
        EventTemplate("gp_appointment", "practice nurse", "Immunisations given; due reminders sent."),
        EventTemplate("gp_appointment", "GP",
                      "Seen with {injury}; explanation accepted; no referral and the social worker not told.",
                      "missed"),
        EventTemplate("information_shared", "GP", "GP report sent to the child protection conference on time.",
                      "good"),
    ),
    "school": (
        EventTemplate("school_contact", "designated safeguarding lead",
                      "Attendance fell below 80 % this term; parents contacted and a meeting held."),
        EventTemplate("school_contact", "class teacher",
                      "Child arrived hungry and in unwashed clothes; recorded on the safeguarding log."),
        EventTemplate("school_contact", "designated safeguarding lead",
                      "Child disclosed {disclosure}; the disclosure was logged but not referred for 4 days.",
                      "missed"),
        EventTemplate("school_contact", "head teacher", "Attendance and welfare meeting with the parent."),
    ),
    "nursery": (
        EventTemplate("school_contact", "nursery key worker",
                      "Bruising seen on the child's arm; body map completed and shared with the social worker.",
                      "good"),
        EventTemplate("school_contact", "nursery manager",
                      "Child not brought to nursery for 2 weeks; parent contacted by phone."),
    ),
    "housing": (
        EventTemplate("information_shared", "housing officer",
                      "Family moved to temporary accommodation; the social worker was told the same week."),
        EventTemplate("information_shared", "housing officer",
                      "Rent arrears and a notice of eviction; the housing officer told the social worker."),
        EventTemplate("other", "housing officer",
                      "Complaint about noise and fighting at the flat logged by housing; not shared with social care.",
                      "missed"),
    ),
    "mash": (
        EventTemplate("information_shared", "MASH social worker",
                      "Information about a previous referral shared with the school's designated safeguarding lead."),
    ),
}

# ----------------------------------------------------------------- the index case C-017
#
# An infant with 62 contacts across 8 services over about 8.5 months before
# fieldwork. ``day`` counts from the first contact; the last event is a week
# before fieldwork starts (see demo.INDEX_FIRST_DAY).


class StoryEvent(NamedTuple):
    day: int
    agency: str
    role: str
    event_type: str
    description: str
    source: str
    flags: str = ""  # letters: K key event, M missed opportunity, G good practice
    precision: str = "day"


INDEX_CASE_REF = "C-017"
SIBLING_CASE_REF = "C-018"

_GP = "GP record (Canal Street Surgery)"
_HV = "Health visiting record"
_SC = "Children's social care record"
_ED = "Emergency department record"
_PA = "Hospital paediatric notes"
_CD = "Child development clinic notes"
_MA = "MASH record"
_PO = "Police crime and incident records"

INDEX_STORY: tuple[StoryEvent, ...] = (
    StoryEvent(0, "gp1", "GP practice administrator", "other",
               "Infant registered after the family moved into Ashbridge from another area; previous GP records "
               "requested from the former practice.", _GP),
    StoryEvent(4, "hv", "health visitor", "health_visit",
               "Transfer-in visit at home: infant aged 11 weeks, feeding well, weight on the 50th centile. Mother "
               "says she is coping alone with two children and has no partner.", _HV),
    StoryEvent(11, "hv", "health visitor", "information_shared",
               "Previous area's health visiting records requested; no reply, and the request was not chased.", _HV),
    StoryEvent(18, "gp1", "practice nurse", "gp_appointment", "Immunisations given; no concerns recorded.", _GP),
    StoryEvent(26, "ed", "emergency department nurse", "ed_attendance",
               "Infant aged about 4 months brought by mother with a bruise to the left cheek, said to be from a "
               "sibling's toy. Triage nurse notes bruising in a baby who is not yet mobile.", _ED, "K"),
    StoryEvent(26, "ed", "emergency department consultant", "referral",
               "Consultant judged the explanation inconsistent with the injury in a non-mobile infant, completed a "
               "body map and referred to the MASH by telephone and in writing before discharge.", _ED, "KG"),
    StoryEvent(26, "paeds", "paediatric registrar", "medical_examination",
               "Child protection medical: single bruise to the left cheek, no other injuries seen. No skeletal "
               "survey: the infant was discharged before the consultant's review.", _PA, "M"),
    StoryEvent(27, "mash", "MASH social worker", "assessment",
               "Referral screened within 4 hours; police and health checks completed in the MASH; passed to "
               "safeguarding team 2 as a child protection concern.", _MA, "G"),
    StoryEvent(28, "team2", "team manager", "strategy_discussion",
               "Strategy discussion by telephone between the social care team manager and a CAIT detective "
               "sergeant. Health was not invited; the ED consultant's and the paediatrician's views were not "
               "sought. Agreed: single-agency section 47 enquiry by social care.", _SC, "KM"),
    StoryEvent(29, "team2", "social worker", "home_visit",
               "Home visit for the section 47 enquiry: mother and infant seen together in the living room; the "
               "infant was not undressed or seen apart from the mother; the explanation was accepted.", _SC, "M"),
    StoryEvent(31, "cait", "CAIT detective constable", "police_incident",
               "Crime report of assault on a child recorded and filed as no further action on the strength of "
               "social care's account; no paediatric opinion obtained.", _PO, "M"),
    StoryEvent(35, "team2", "social worker", "s47_enquiry",
               "Section 47 enquiry concluded: the injury is not adequately explained; initial child protection "
               "conference requested.", _SC, "K"),
    StoryEvent(38, "gp1", "GP", "gp_appointment",
               "Follow-up after the ED attendance: bruise resolved; mother reports the infant well. The GP had not "
               "been told of the section 47 enquiry.", _GP),
    StoryEvent(43, "hv", "health visitor", "health_visit",
               "Clinic contact: weight on the 50th centile; mother says a friend helps her with the children in "
               "the evenings.", _HV),
    StoryEvent(50, "team2", "child protection conference chair", "conference",
               "Initial child protection conference: infant made subject of a child protection plan (physical abuse "
               "and neglect). Health visitor attended; GP sent a written report; the police report arrived late "
               "and was not considered.", _SC, "K"),
    StoryEvent(57, "team2", "social worker", "core_group",
               "First core group within 10 working days of the conference; written plan agreed with fortnightly "
               "health visiting and social work visits.", _SC, "G"),
    StoryEvent(60, "team2", "social worker", "home_visit",
               "Statutory visit: the infant was asleep upstairs and was not seen; the visit was recorded as "
               "completed.", _SC),
    StoryEvent(64, "hv", "health visitor", "health_visit",
               "Home visit: a man in the home was introduced as a family friend and left when the health visitor "
               "arrived. Noted in the health visiting record only; not shared with the social worker or the core "
               "group.", _HV, "KM"),
    StoryEvent(68, "gp1", "GP", "gp_appointment",
               "Infant seen with nappy rash. GP recorded a small bruise on the upper arm, explained by the mother as "
               "a knock against the cot. No referral; the GP did not check the child protection plan or tell the "
               "social worker.", _GP, "KM"),
    StoryEvent(74, "team2", "social worker", "home_visit",
               "Announced visit: infant seen in the mother's arms; home conditions adequate; a man's jacket and "
               "boots in the hall were noticed but not asked about.", _SC),
    StoryEvent(79, "team2", "social worker", "core_group",
               "Core group: GP not invited; health visitor reports the infant is doing well; the adult seen at the "
               "home is not mentioned.", _SC),
    StoryEvent(83, "cdc", "community paediatrician", "clinic_appointment",
               "Developmental review on the health visitor's request: mild delay in head control; follow-up in 3 "
               "months.", _CD),
    StoryEvent(88, "team2", "social worker", "home_visit",
               "Unannounced visit: no answer; card left; the next visit was 12 days later.", _SC),
    StoryEvent(92, "hv", "health visitor", "health_visit",
               "Weight has fallen from the 50th to the 25th centile; feeding advice given; weight check booked in "
               "2 weeks.", _HV),
    StoryEvent(100, "team2", "social worker", "home_visit",
               "Visit: infant seen and appears well; not seen undressed; mother says the friend no longer "
               "visits.", _SC),
    StoryEvent(106, "hv", "health visitor", "health_visit",
               "Weight now on the 9th centile; a further check planned; the social worker and GP were not told.",
               _HV),
    # The contested pair: the same ED attendance, recorded by the ED and (a day
    # later, from the mother's account) by the health visitor, differently.
    StoryEvent(111, "ed", "emergency department doctor", "ed_attendance",
               "Attended late evening with a head injury: mother said the infant rolled off the sofa while she was "
               "in the kitchen. Small swelling to the forehead; observed for 4 hours and discharged. The ED checked "
               "the child protection information system, saw the plan and wrote to the social worker.", _ED, "G"),
    StoryEvent(112, "hv", "health visitor", "ed_attendance",
               "Recorded from the mother's telephone call: the infant was taken to the ED after being dropped by the "
               "family friend while he carried him downstairs. The health visitor did not tell the social worker "
               "that this account differed from the ED's.", _HV, "M"),
    StoryEvent(116, "team2", "social worker", "home_visit",
               "Visit after the ED letter: the mother's account of a fall from the sofa accepted; the social worker "
               "did not know of the different account given to the health visitor.", _SC),
    StoryEvent(120, "hv", "health visitor", "other",
               "Mother said her new partner had moved in some time this month; his name and background were not "
               "asked for.", _HV, "", "month"),
    StoryEvent(124, "team2", "team manager", "other",
               "Supervision: drift in the plan noted (two visits missed); actions set for visits, nothing about the "
               "adults in the household.", _SC),
    StoryEvent(131, "gp1", "GP", "gp_appointment",
               "Seen with a cough and cold; chest clear; the skin was not examined.", _GP),
    StoryEvent(138, "team2", "child protection conference chair", "conference",
               "Review child protection conference: plan continued. Police did not attend or send a report; the man "
               "living in the home was not known to the conference.", _SC, "K"),
    StoryEvent(145, "team2", "social worker", "home_visit",
               "Visit: infant in a high chair with a healing scratch on the forehead, explained as his own "
               "fingernail; the explanation was accepted.", _SC),
    StoryEvent(150, "cait", "police response officer", "police_incident",
               "Police attended after a neighbour reported shouting (date approximate: the log was written up days "
               "later). A man answered and said all was well; the infant was not seen. Not linked to the child "
               "protection plan and not passed to social care.", _PO, "M", "approximate"),
    StoryEvent(155, "cdc", "child development clinic administrator", "clinic_appointment",
               "Follow-up developmental review: the infant was not brought. A new appointment was posted; the "
               "health visitor and social worker were not told.", _CD, "M"),
    StoryEvent(160, "hv", "health visitor", "health_visit",
               "Handover visit: the case moved to a new health visitor after a vacancy; handover by email, no joint "
               "visit.", _HV),
    StoryEvent(166, "team2", "social worker", "home_visit",
               "Visit: mother and infant seen together; mother says her partner works away. The infant was not seen "
               "alone or undressed.", _SC),
    StoryEvent(172, "team2", "social worker", "core_group",
               "Core group: the new health visitor attends; the GP report is requested; weight loss discussed for "
               "the first time.", _SC),
    StoryEvent(178, "mash", "MASH social worker", "information_shared",
               "Anonymous caller told the MASH that a man with a history of violence was living at the address; "
               "passed to the allocated social worker the same day.", _MA, "G"),
    StoryEvent(180, "team2", "social worker", "home_visit",
               "Visit after the anonymous call: mother denied anyone else lived there; the social worker did not "
               "ask to see the rest of the home or request police checks on the man.", _SC, "KM"),
    StoryEvent(186, "gp1", "GP", "gp_appointment",
               "Mother phoned for advice about a bump on the head; telephone triage only; no appointment offered.",
               _GP),
    StoryEvent(193, "hv", "health visitor", "health_visit",
               "Weight back to the 25th centile; mother more engaged with the health visitor.", _HV),
    StoryEvent(199, "team2", "social worker", "home_visit",
               "Visit: infant playing on the floor; no marks seen on face or hands; not undressed.", _SC),
    StoryEvent(205, "team2", "child protection conference chair", "conference",
               "Second review conference: plan continued; GP report not received; police sent apologies; the "
               "anonymous information about the man at the address was mentioned but no action agreed.", _SC),
    StoryEvent(212, "team2", "social worker", "core_group",
               "Core group: police checks on the mother's partner requested from the CAIT.", _SC),
    StoryEvent(216, "cait", "CAIT detective sergeant", "information_shared",
               "Police checks on the mother's partner returned to social care within 4 working days: previous "
               "convictions for violence.", _PO),
    StoryEvent(219, "team2", "team manager", "other",
               "Manager's review: the partner's convictions noted; decided to monitor rather than hold a new "
               "strategy discussion.", _SC, "KM"),
    StoryEvent(224, "hv", "health visitor", "health_visit",
               "Bruise to the right ear seen at a home visit, explained as a fall against the cot. Body map "
               "completed; the health visitor emailed the social worker the same day.", _HV, "G"),
    StoryEvent(226, "team2", "social worker", "home_visit",
               "Visit 2 days after the health visitor's email: the ear bruise had faded; the mother's explanation "
               "accepted; the infant not seen undressed or apart from the mother.", _SC),
    StoryEvent(232, "team2", "social worker", "core_group",
               "Core group: plan reviewed; the health visitor's body map discussed; no change to the plan.", _SC),
    StoryEvent(236, "hv", "health visitor", "other",
               "Mother said the infant had a fall down two stairs about a fortnight earlier (date approximate); no "
               "medical attention was sought.", _HV, "", "approximate"),
    StoryEvent(245, "cdc", "locum paediatrician", "clinic_appointment",
               "Developmental follow-up by a locum paediatrician without the previous records (not transferred to "
               "the electronic record). Infant irritable and not using the left arm; recorded as possible "
               "soft-tissue injury, review in 4 weeks. No x-ray or skeletal survey, no referral; the child "
               "protection plan was not known to the locum.", _CD, "KM"),
    StoryEvent(247, "ed", "emergency department consultant", "critical_incident",
               "Brought in by ambulance, unresponsive; resuscitated. Injuries include rib and left arm fractures of "
               "different ages.", _ED, "K"),
    StoryEvent(247, "ed", "emergency department consultant", "referral",
               "Immediate referral to the MASH and the police from the resuscitation room; the consultant called "
               "the on-call social worker directly.", _ED, "G"),
    StoryEvent(247, "paeds", "consultant paediatrician", "hospital_admission",
               "Admitted to paediatric intensive care; child protection medical and full skeletal survey "
               "requested.", _PA, "K"),
    StoryEvent(248, "mash", "MASH team manager", "strategy_discussion",
               "Strategy discussion in the MASH within 24 hours with police, health (named doctor for safeguarding) "
               "and social care; joint section 47 enquiry and police investigation agreed; safety plan for the "
               "sibling the same day.", _MA, "KG"),
    StoryEvent(248, "cait", "CAIT detective sergeant", "police_incident",
               "Joint investigation opened; the mother and her partner arrested on suspicion of causing grievous "
               "bodily harm to a child.", _PO, "K"),
    StoryEvent(249, "paeds", "consultant paediatrician", "medical_examination",
               "Skeletal survey: fractures of the ribs and the left upper arm, estimated at 1 to 6 weeks old, and "
               "new bruising to the back.", _PA, "K"),
    StoryEvent(250, "team2", "social worker", "s47_enquiry",
               "Joint section 47 enquiry begun with the police; the sibling (C-018) placed with a relative under a "
               "safety plan.", _SC),
    StoryEvent(253, "team2", "team manager", "other",
               "Legal planning meeting with children's legal services: threshold for care proceedings met; "
               "application to court agreed.", _SC),
)

# Recorded last of all the demo's events (so after its neighbours) but dated
# early in the story: the out-of-order trap.
INDEX_LATE_ENTRY = StoryEvent(
    70, "hv", "health visitor", "other",
    "Late entry, written up five weeks after the call: mother phoned to cancel the fortnightly visit because the "
    "infant had a cold; no new visit was arranged for three weeks.", _HV)

INDEX_FIRST_DAY = 262
"""Days between C-017's first recorded contact and the first fieldwork day."""

# ----------------------------------------------------------------- the planted identifiers
#
# Two findings quote an NHS-number-shaped identifier (3-3-4 digits with
# spaces). 943 476 5919 is the sample number in NHS documentation; 999 numbers
# are reserved for test data. The identifier check must catch both.

IDENTIFIER_FINDINGS = (
    "Case file review of {case} (social care record): a GP letter is copied into the record in full, including "
    "the child's NHS number 943 476 5919, and shows the GP raised weight loss that was not acted on.",
    "Case file review of {case} (ED record): the discharge summary pasted into the notes quotes NHS number "
    "999 000 0018 and describes an injury the GP was never told about.",
)

# ----------------------------------------------------------------- judgements and alerts

# criterion → (proposed grade, narrative). 2.3 is deliberately graded good
# although areas for improvement dominate its evidence (docs/architecture.md §6 q. 9).
PARTNERSHIP_JUDGEMENTS = {
    "1": (2, "The serious case review action plan is largely complete, but learning has not reached all front-line "
             "staff."),
    "2.1": (1, "Concerns are too often not recognised or referred; bruising in non-mobile infants was not acted on."),
    "2.2": (2, "Assessments are timely but often descriptive; plans lack measurable outcomes."),
    "2.3": (3, "Partners attend meetings and the MASH works well, so inter-agency working is judged good."),
    "3.1": (2, "The board receives reports but does not consistently challenge them."),
    "3.2": (2, "Performance data counts activity rather than quality; audits are not always acted on."),
    "3.3": (3, "Training, supervision and safe recruitment are mostly good; the use of locums is a risk."),
}
MODERATED = {"1": 2, "2.1": 1, "3.2": 2}
AGENCY_JUDGEMENTS = (
    ("2.1", "ed", 3, "The ED recognises and refers injuries to infants well."),
    ("2.1", "gp1", 1, "Bruising in an infant on a child protection plan was seen and not referred."),
    ("2.1", "mash", 3, "Screening in the MASH is timely and thorough."),
    ("2.3", "cait", 2, "Police checks are timely but police rarely attend conferences."),
    ("2.3", "hv", 2, "Health visitors share some concerns promptly but not others."),
    ("3.3", "cdc", 1, "Locum paediatricians work without previous records or a safeguarding induction."),
)
