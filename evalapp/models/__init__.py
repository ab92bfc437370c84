"""All models, imported here so that Flask-Migrate sees every table."""
from .audit import AuditCheckpoint, AuditEvent
from .catalogue import BonusItem, CatalogueVersion, Category, DeductionRule, Indicator, VetoItem
from .doc_number import DocSequence
from .job import Job
from .lineage import CatalogueLineage, IndicatorLineage, UnitLineage
from .notice import CalendarDay, NoticePeriod, Objection, ObjectionFile, ObjectionReviewer, Reminder
from .org import OrgUnit
from .publication import Publication, PublishedScore, PublishedUnit
from .rectification import Interview, Recheck, RecheckScore, Rectification, RectificationExtension, RectifyFile
from .round import Round, RoundUnit, SetupUnlock, SubsidyBand, SubsidyRule, Team, TeamMember
from .signature import Signature
from .summary import RoundSummary, SummaryTemplate
from .sync import DevicePending, SyncOperation
from .sheet import (
    EvidenceFile, ReviewComment, Score, ScoreDeduction, Sheet, SheetBonus, SheetTransition, SheetVeto,
)
from .user import ApiToken, LoginFailure, RecoveryCode, RefreshToken, SetupCode, User, UserSession
from .version import ResultsVersion

__all__ = [
    "ApiToken", "AuditCheckpoint", "AuditEvent", "BonusItem", "CalendarDay", "CatalogueVersion", "Category",
    "DeductionRule",
    "DevicePending", "DocSequence", "Job", "NoticePeriod", "Objection", "ObjectionFile", "ObjectionReviewer", "Reminder",
    "SyncOperation",
    "EvidenceFile", "Indicator", "LoginFailure", "OrgUnit", "Publication", "PublishedScore", "PublishedUnit",
    "RecoveryCode", "RefreshToken", "ResultsVersion", "ReviewComment", "Round", "RoundUnit", "Score", "ScoreDeduction",
    "SetupCode", "SetupUnlock", "Sheet", "SheetBonus",
    "SheetTransition", "SheetVeto", "Signature", "SubsidyBand", "SubsidyRule", "Team", "TeamMember", "User", "UserSession",
    "VetoItem", "Interview", "RoundSummary", "SummaryTemplate", "CatalogueLineage", "IndicatorLineage", "UnitLineage", "Recheck", "RecheckScore", "Rectification", "RectificationExtension", "RectifyFile",
]
