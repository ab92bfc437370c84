"""Users and their server-side sessions."""
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..domain.second_factor import ROLES as SECOND_FACTOR_ROLES
from ..domain.vocabulary import Role
from ..extensions import db
from .base import UTCDateTime, utcnow
from .org import OrgUnit

ROLES = tuple(Role)
ROLE_LABELS = Role.zh_labels()  # Chinese (the msgids); pages show Role.label
# Roles whose scope is a unit: their unit decides what they see.
SCOPED_ROLES = ("township", "village")
# The stored "hash" of an account that has no password yet (an import: its user sets one with a set-up code), plus
# random text: it is no argon2 hash, so no password matches it.
NO_PASSWORD = "!setup-code:"


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(
            "role IN ('admin', 'district', 'inspector', 'township', 'village', 'finance')", name="role"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The second factor (TOTP, RFC 6238): asked of the roles in domain.second_factor.ROLES unless `totp_exempt` (the
    # demo seed's accounts). `totp_last_step`: the time step of the last code accepted, so no code is used twice.
    totp_secret: Mapped[str | None] = mapped_column(String(32))
    totp_enrolled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    totp_exempt: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    unit: Mapped[OrgUnit | None] = relationship()

    # Set by the user loader: the server-side session this request runs under.
    session_token = None  # str | None; not a column

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    def get_id(self) -> str:
        """Flask-Login stores the server-side session token, not the user id, in the cookie."""
        return self.session_token or ""

    @property
    def role_label(self) -> str:
        """The role's Chinese label (the msgid)."""
        return Role.zh_of(self.role)

    @property
    def awaiting_setup(self) -> bool:
        """Created without a password (an import): its user has yet to set one with a set-up code."""
        return self.password_hash.startswith(NO_PASSWORD)

    @property
    def second_factor_state(self) -> str | None:
        """For the user list: "on" (enrolled), "due" (asked, not yet enrolled), "off" (asked of the role, switched
        off for this account) or None (not asked of the role)."""
        if self.role not in SECOND_FACTOR_ROLES:
            return None
        if self.totp_exempt:
            return "off"
        return "on" if self.totp_secret is not None else "due"

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role}>"


class UserSession(db.Model):
    """One log-in. Log-out and deactivation end it here, so a replayed cookie is refused."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(255))

    user: Mapped[User] = relationship()


class ApiToken(db.Model):
    """A Bearer token for programs using the JSON API (only its SHA-256 is stored)."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # written at most once a minute
    # The refresh-token family it was issued in (POST /auth/token, then each refresh; RefreshToken): a refresh token
    # used twice revokes the family's access tokens with its refresh tokens.
    family: Mapped[str | None] = mapped_column(String(32), index=True)

    user: Mapped[User] = relationship()


class RefreshToken(db.Model):
    """A refresh token of the API (only its SHA-256 is stored): exchanged once (`used_at`) for a new access token and
    a new refresh token of the same `family`; one used a second time — stolen and replayed, or replayed by the thief
    after the owner — revokes the whole family (issue 31)."""

    __tablename__ = "refresh_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    family: Mapped[str] = mapped_column(String(32), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LoginFailure(db.Model):
    """A failed log-in (form, API token, password-change check): the throttling limits count these rows, so they
    hold across workers and instances sharing the database."""

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_account_at", "account", "at"),
                      Index("ix_login_failures_address_at", "address", "at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    account: Mapped[str] = mapped_column(String(64))  # the username as typed, case-folded
    address: Mapped[str] = mapped_column(String(64))


class RecoveryCode(db.Model):
    """One of a user's one-time recovery codes for the second factor (only its SHA-256 is stored)."""

    __tablename__ = "recovery_codes"
    __table_args__ = (UniqueConstraint("user_id", "code_hash"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SetupCode(db.Model):
    """A one-time code with which a user sets their own first password (an imported account), or a new one (an
    administrator issued another). Only its keyed hash is stored (domain.setup_codes); spent once (`used_at`), by
    `expires_at` at the latest; issuing a new code for a user deletes their unspent ones."""

    __tablename__ = "setup_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
