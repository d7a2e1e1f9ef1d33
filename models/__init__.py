"""Opora's data model: one module per aggregate, all on one metadata."""

from .accounts import ROLE, LoginThrottle, User, UserSession
from .audit import AUDIT_ACTION, AuditRecord
from .base import Choices, db
from .cases import (
    Assessment,
    Case,
    PlanActivity,
    PlanRevision,
    Review,
    SupportPlan,
    Task,
    TaskAssignment,
    Visit,
)
from .centre import CentreSettings
from .channels import IncomingReferral, SocialRaid
from .council import CouncilAgendaItem, CouncilDecision, StaffNotice
from .documents import Document, RequiredDocument
from .drafts import FormDraft
from .events import EventAttendance, ProjectMeasure, Volunteer
from .figures import DistrictFigures, DistrictTally, FigureTally, KeptFigures
from .notify import Message, MessageTemplate
from .people import Consent, Family, Person, ProgrammeEnrolment
from .reference import (
    Appointment,
    CouncilMeeting,
    Department,
    District,
    Event,
    Partner,
    PartnerAgreement,
    PartnerContact,
    Programme,
    Service,
    Staff,
)
from .referrals import Referral
from .rehab import RehabMeasure, RehabProgramme, RehabTsr
from .rental import (
    EquipmentType,
    EquipmentUnit,
    Loan,
    LoanExtension,
    RentalEvent,
    Reservation,
)
from .search import use_trigram_indexes

__all__ = [
    "AUDIT_ACTION",
    "ROLE",
    "Appointment",
    "Assessment",
    "AuditRecord",
    "Case",
    "CentreSettings",
    "Choices",
    "Consent",
    "CouncilAgendaItem",
    "CouncilDecision",
    "CouncilMeeting",
    "Department",
    "District",
    "DistrictFigures",
    "DistrictTally",
    "Document",
    "EquipmentType",
    "EquipmentUnit",
    "Event",
    "EventAttendance",
    "Family",
    "FigureTally",
    "FormDraft",
    "IncomingReferral",
    "KeptFigures",
    "Loan",
    "LoanExtension",
    "LoginThrottle",
    "Message",
    "MessageTemplate",
    "Partner",
    "PartnerAgreement",
    "PartnerContact",
    "Person",
    "PlanActivity",
    "PlanRevision",
    "Programme",
    "ProgrammeEnrolment",
    "ProjectMeasure",
    "Referral",
    "RehabMeasure",
    "RehabProgramme",
    "RehabTsr",
    "RentalEvent",
    "RequiredDocument",
    "Reservation",
    "Review",
    "Service",
    "SocialRaid",
    "Staff",
    "StaffNotice",
    "SupportPlan",
    "Task",
    "TaskAssignment",
    "User",
    "UserSession",
    "Visit",
    "Volunteer",
    "db",
    "use_trigram_indexes",
]
