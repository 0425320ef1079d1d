"""SCIM provisioning's domain (``workflows.sign_on.scim``): a provider's token, replaced or revoked at once, and of
no use once the provider is disabled; which account a provisioned user is, and no takeover by an address the
provider does not own. (Over HTTP, with scim2-tester and deprovisioning: ``tests/api/sign_on/test_scim.py``.)"""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import User
from tests.factories.accounts import UserFactory
from tests.factories.scim import scim_provider
from workflows.actors import Actor
from workflows.errors import Conflict, InvalidInput, NotFound
from workflows.sign_on import scim
from workflows.sign_on.scim import UserData


def test_a_new_token_replaces_the_old_at_once_and_a_disabled_provider_s_token_opens_nothing(db: Session) -> None:
    provider, token, _domain = scim_provider(db)
    admin = Actor(user_id=UserFactory(is_admin=True).id, is_admin=True)
    assert scim.provider_of_token(db, token) == provider
    renewed = scim.issue_token(db, admin, provider.id)
    assert scim.provider_of_token(db, token) is None and scim.provider_of_token(db, renewed) == provider
    scim.revoke_token(db, admin, provider.id)
    assert scim.provider_of_token(db, renewed) is None
    with pytest.raises(NotFound, match="this provider has no SCIM token"):
        scim.revoke_token(db, admin, provider.id)
    again = scim.issue_token(db, admin, provider.id)
    provider.disabled_at = provider.created_at
    db.flush()
    assert scim.provider_of_token(db, again) is None


def test_an_address_outside_the_provider_s_domains_takes_over_no_account(db: Session) -> None:
    provider, _token, domain = scim_provider(db)
    someone = UserFactory(email="someone@elsewhere.example")
    with pytest.raises(Conflict, match="an account with this email exists"):
        scim.create_user(db, provider, UserData(user_name="someone@elsewhere.example"))
    db.refresh(someone)
    assert someone.password_hash is not None  # untouched
    outside = scim.create_user(db, provider, UserData(user_name="new@elsewhere.example"))
    assert db.get_one(User, outside.user_id).email_verified_at is None  # not the provider's to vouch for
    unconfirmed = UserFactory(email=f"mine@{domain}", email_verified_at=None)
    inside = scim.create_user(db, provider, UserData(user_name=f"mine@{domain}"))
    assert inside.user_id == unconfirmed.id and db.get_one(User, unconfirmed.id).email_verified_at is not None


def test_a_user_with_no_email_has_no_account_until_one_is_given(db: Session) -> None:
    provider, _token, domain = scim_provider(db)
    row = scim.create_user(db, provider, UserData(user_name="ada"))
    assert row.user_id is None
    row = scim.replace_user(db, provider, row.id, UserData(user_name="ada", email=f"ada@{domain}"))
    assert db.scalars(select(User.email).where(User.id == row.user_id)).one() == f"ada@{domain}"


def test_an_unconfirmed_account_taken_by_provisioning_loses_whoever_made_it(db: Session) -> None:
    provider, _token, domain = scim_provider(db)
    squatter = UserFactory(email=f"ada@{domain}", email_verified_at=None)
    assert squatter.password_hash is not None
    row = scim.create_user(db, provider, UserData(user_name=f"ada@{domain}"))
    db.refresh(squatter)
    assert row.user_id == squatter.id and squatter.password_hash is None and squatter.email_verified_at is not None


def test_admins_accounts_and_another_provider_s_people_are_out_of_reach(db: Session) -> None:
    provider, _token, domain = scim_provider(db)
    _other, _other_token, other_domain = scim_provider(db)
    UserFactory(email=f"boss@{domain}", is_admin=True)
    with pytest.raises(Conflict, match="an administrator's account is not provisioned by SCIM"):
        scim.create_user(db, provider, UserData(user_name=f"boss@{domain}"))
    with pytest.raises(InvalidInput, match="belongs to another organisation's sign-on provider"):
        scim.create_user(db, provider, UserData(user_name=f"someone@{other_domain}"))
    row = scim.create_user(db, provider, UserData(user_name=f"ada@{domain}"))
    with pytest.raises(InvalidInput, match="an account it vouched for keeps one"):  # no move out of its domains
        scim.replace_user(db, provider, row.id, UserData(user_name=f"ada@{domain}", email="ada@elsewhere.example"))
    with pytest.raises(InvalidInput, match="belongs to another organisation's sign-on provider"):
        scim.replace_user(db, provider, row.id, UserData(user_name=f"ada@{domain}", email=f"x@{other_domain}"))
    assert db.get_one(User, row.user_id).email == f"ada@{domain}"
