"""Where an admin requires a second step (``workflows/sign_on/second_step_rule.py``): admins only, domains written as
the providers' are, every account, and each change in the admin trail."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import AdminAction
from tests.factories.accounts import UserFactory, actor_of
from workflows.accounts import second_steps
from workflows.errors import Forbidden, InvalidInput
from workflows.sign_on import second_step_rule


def test_an_admin_requires_it_of_domains_or_everyone_and_is_in_the_trail(db: Session) -> None:
    admin = actor_of(UserFactory(is_admin=True))
    with pytest.raises(Forbidden):
        second_step_rule.set_rule(db, actor_of(UserFactory()), every_account=True, domains=[])
    with pytest.raises(InvalidInput):
        second_step_rule.set_rule(db, admin, every_account=False, domains=["not a domain"])
    with pytest.raises(InvalidInput):
        second_step_rule.set_rule(db, admin, every_account=False, domains=[f"d{n}.example" for n in range(201)])
    rule = second_step_rule.set_rule(db, admin, every_account=False, domains=["@Example.EDU", "b.example"])
    assert rule == second_step_rule.Rule(every_account=False, domains=["b.example", "example.edu"])
    assert second_steps.required_for(db, "ana@example.edu") and not second_steps.required_for(db, "bo@example.org")
    assert second_step_rule.set_rule(db, admin, every_account=True, domains=[]) == second_step_rule.Rule(
        every_account=True, domains=[])
    assert second_steps.required_for(db, "bo@example.org")
    trail = db.scalars(select(AdminAction.reason).where(AdminAction.admin_user_id == admin.user_id)
                       .order_by(AdminAction.created_at, AdminAction.id)).all()
    assert sorted(trail) == ["required of: b.example, example.edu", "required of: every account"]
