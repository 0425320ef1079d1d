"""A notification keeps its message key and its words, not the words of one language: each reader reads it in their
own. The rows written before keep the English they were written in where no key had those words.

Revision ID: 0075
Revises: 0074
Create Date: 2026-11-28 19:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0075'
down_revision: str | None = '0074'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The keys of the English templates notifications were written with until now: (key, title, body).
KEYED = [
    ('account.email_change_cancelled', 'The change of your email was cancelled', "The change of your account's email was cancelled from the link sent to this address, and every sign-in ended. Choose a new password now: whoever asked for the change knew the old one."),
    ('account.email_change_requested', 'Your email is being changed', 'Someone signed in to your account asked to change its email to another address. It changes once that address is confirmed; until then you can cancel it in your settings. If this was not you, cancel it and change your password at once.'),
    ('account.email_changed', 'Your email was changed', "Your account's email was changed to another address, which its owner just confirmed. If this was not you, reset your password at {link}."),
    ('account.linked', 'Your account is now linked to {provider}', 'You can now sign in with {provider}. If this was not you, sign out everywhere from your settings and tell your administrator.'),
    ('account.linked.password', 'Your account is now linked to {provider}', 'You can now sign in with {provider}. If this was not you, change your password and tell your administrator.'),
    ('account.password_changed', 'Your password was changed', 'The password of your account was just changed, and every other sign-in ended. If this was not you, reset it at once from the link.'),
    ('account.password_reset', 'Your password was reset', 'The password of your account was just reset through a link sent to this address, and every sign-in ended. If this was not you, ask for a new link at once.'),
    ('account.registration_attempt', 'Someone tried to sign up with your email', 'Someone just tried to create a new account with this address, which is already yours. Nothing changed. If this was you, sign in instead (or reset your password if you forgot it); if not, you need do nothing. This notice is sent at most once a day.'),
    ('account.unconfirmed_credentials_ended', 'Calendar feed and webhooks made before your address was confirmed turned off', 'Because {because}, what was set up on this account before its address was confirmed stopped working:{ended}\n\nWhoever set it up may not have been you. If it was yours, create it again in your settings.'),
    ('attendance.absent.mentee', 'Mentee absent', '{other} was recorded absent from {listing} on {when}.'),
    ('attendance.absent.mentee_you', 'You were recorded absent', 'You were recorded absent from {listing} with {other} on {when}. If you were there, dispute it from the session page within {hours} hours; otherwise, as for a late cancellation, your bundle credit is used or the late fee is due once that time has passed.'),
    ('attendance.absent.mentor_missing', 'Your mentor did not come', '{other} did not come to {listing} on {when}. Unless they show within {hours} hours that they did, you pay nothing and your bundle credit comes back. Book another time from the link below.'),
    ('attendance.absent.mentor_you', 'You were recorded absent', 'You were recorded absent from {listing} with {other} on {when}; it counts in your statistics. If you were there, dispute it from the session page within {hours} hours.'),
    ('attendance.disputed', 'Attendance disputed', '{other} disputes who was absent from {listing} on {when}{reason}. An administrator will decide.'),
    ('attendance.final', 'Attendance final', 'Who was absent from {listing} with {other} on {when} is final: {outcome}{cost}.'),
    ('attendance.resolved', 'Attendance reviewed', 'An administrator reviewed who was absent from {listing} on {when}: {outcome}.'),
    ('booking.accepted', 'Booking accepted', '{other} accepted your request for {listing} on {when}.'),
    ('booking.declined', 'Booking declined', '{other} declined your request for {listing} on {when}{reason}.'),
    ('booking.declined.settled', 'Booking declined', 'Your request to {other} for {listing} on {when} was declined: {reason}. {next}'),
    ('booking.expired.mentee', 'Booking request expired', 'Your request to {other} for {listing} on {when} expired before it was answered.'),
    ('booking.expired.mentor', 'Booking request expired', 'The request of {other} for {listing} on {when} expired before it was answered.'),
    ('booking.instant.mentee', 'Booking confirmed', 'Your booking of {listing} with {other} on {when} is confirmed.'),
    ('booking.instant.mentor', 'New booking', '{other} booked {listing} on {when}.'),
    ('booking.moved', 'Session moved', '{listing} with {other} moved from {previous} to {when}. It costs nothing.'),
    ('booking.requested', 'New booking request', '{other} asked for {listing} on {when}.'),
    ('booking.withdrawn', 'Booking request withdrawn', '{other} withdrew the request for {listing} on {when}{reason}.'),
    ('booking.withdrawn.settled.mentee', 'Booking request withdrawn', 'Your request to {other} for {listing} on {when} was withdrawn: {reason}. {next}'),
    ('booking.withdrawn.settled.mentor', 'Booking request withdrawn', 'The request of {other} for {listing} on {when} was withdrawn: they have another session at this time.'),
    ('calendar.broken', 'Calendar connection needs attention', 'Your calendar at {host} refused the password. Its busy times are no longer read: give a new app password on your setup page.'),
    ('calendar_feed.revoked', 'Calendar feed turned off', 'Your private calendar feed stopped working because {because}. Create a new feed address in your settings and subscribe to it again.'),
    ('conversation.blocked', 'A pair stopped messaging', "{blocker} blocked {blocked} in the service's messages, in {programme}: no new message goes between them. Their pairing and its sessions stand."),
    ('conversation.blocked', 'A pair stopped messaging', "{blocker} blocked {blocked} in the service's messages, in “{programme}”: no new message goes between them. Their pairing and its sessions stand."),
    ('conversation.reported', 'A conversation was reported', '{reporter} reported a conversation for {reason}. Read it from the report: your reading is recorded.'),
    ('enrolment.intake_asked.mentee', 'Answer your intake', "Before {programme} pairs you with a mentor, answer its intake on the programme's page."),
    ('enrolment.intake_asked.mentor', 'Give your weekly hours', "Before {programme} pairs you with anyone, confirm the weekly hours you mentor in (and answer its intake) on the programme's page."),
    ('enrolment.joined', 'You joined a programme', 'You take part in {programme} as {part}.'),
    ('enrolment.left.coordinator', 'A participant left', '{person} left {programme}{reason}.'),
    ('enrolment.left.participant', 'You left a programme', 'You left {programme}: your pairings in it have ended.{sessions}'),
    ('enrolment.removed', 'You were taken off a programme', 'A coordinator took you off {programme}.{sessions}'),
    ('goal.done', 'Goal reached', 'Your pairing in {programme} reached its goal {goal}.'),
    ('goal.dropped', 'Goal set aside', 'Your pairing in {programme} set aside its goal {goal}.'),
    ('goal.reopened', 'Goal reopened', 'Your pairing in {programme} works on {goal} again.'),
    ('goal.set', 'A new goal', 'Your pairing in {programme} has a new goal: {goal}.'),
    ('match_run.completed', 'Match ready', 'The match of {programme} is ready: {matched} of {mentees} mentee paired. Review it, then publish.'),
    ('match_run.completed', 'Match ready', 'The match of {programme} is ready: {matched} of {mentees} mentees paired. Review it, then publish.'),
    ('match_run.failed', 'Match failed', 'The match of {programme} could not finish: {error}. Run it again, or ask an operator.'),
    ('nudge.first_session.mentee', 'Reminder: book your first session with {mentor}', "You and {mentor} were paired in {programme} and no session is booked yet: choose a time on the programme's page, or agree one in your conversation."),
    ('nudge.first_session.mentee', 'Reminder: book your first session with {mentor}', "You and {mentor} were paired in “{programme}” and no session is booked yet: choose a time on the programme's page, or agree one in your conversation."),
    ('nudge.first_session.mentor', 'Reminder: no first session yet with {mentee}', "{mentee} and you were paired in {programme} and no session is booked yet: they were reminded to choose a time; you can write to them from the programme's page."),
    ('nudge.first_session.mentor', 'Reminder: no first session yet with {mentee}', "{mentee} and you were paired in “{programme}” and no session is booked yet: they were reminded to choose a time; you can write to them from the programme's page."),
    ('nudge.intake', 'Reminder: finish your intake for {programme}', "Your coordinators pair you once your intake in {programme} is finished (a mentor's weekly hours too). It takes a few minutes."),
    ('nudge.intake', 'Reminder: finish your intake for {programme}', "Your coordinators pair you once your intake in “{programme}” is finished (a mentor's weekly hours too). It takes a few minutes."),
    ('nudge.pairing', 'Reminder: a pairing waits for your answer', "{mentee} was paired with you in {programme}: accept or decline the pairing on the programme's page."),
    ('nudge.pairing', 'Reminder: a pairing waits for your answer', "{mentee} was paired with you in “{programme}”: accept or decline the pairing on the programme's page."),
    ('pairing.activated.coordinator', 'A pairing has started', 'The pairing of {pair} in {programme} has started.'),
    ('pairing.activated.mentee', 'Your pairing has started', '{other} accepted your sessions of {programme}: your pairing is active.{sessions}'),
    ('pairing.ended.coordinator', 'A pairing ended', 'The pairing of {pair} in {programme} has ended{reason}.'),
    ('pairing.ended.pair', 'Pairing ended', "Your pairing with {other} in {programme} has ended{reason}.{sessions}\n\nTell us how it went: a rating and a few words, on the programme's page."),
    ('pairing.not_resumed.coordinator', 'A pairing could not resume', 'The pairing of {pair} in {programme} was to go on today, but could not{reason}. It stays on hold.'),
    ('pairing.not_resumed.pair', 'Pairing still paused', 'Your pairing with {other} in {programme} was to go on today, but could not{reason}. It stays on hold: resume it when you are ready, or end it.'),
    ('pairing.paused', 'Pairing paused', 'Your pairing with {other} in {programme} is on hold{reason}.{back}{sessions}'),
    ('pairing.proposed.mentee', 'You are paired with a mentor', '{programme} pairs you with {other}; your sessions are asked for from {when}, and start once your mentor accepts them.'),
    ('pairing.proposed.mentor', 'You are paired with a mentee', '{programme} pairs you with {other}: accept the sessions they ask for, from {when}, and the pairing starts.'),
    ('pairing.resumed', 'Pairing resumed', 'Your pairing with {other} in {programme} goes on: its remaining sessions are asked for from {when}.'),
    ('programme.closed', 'Programme closed', '{programme} is closed.'),
    ('programme.coordinators_changed', 'Coordinators changed', 'Who coordinates {programme} changed: see the programme for who does now.'),
    ('programme.created', 'You coordinate a programme', 'You were named a coordinator of {programme}, a draft until it opens.'),
    ('programme.enrolment_opened', 'Enrolment open', '{programme} takes participants now.'),
    ('programme.started', 'Programme running', '{programme} is running.'),
    ('reschedule.declined', 'Proposal declined', '{other} declined to move {listing} on {when}: it stays then.'),
    ('reschedule.expired', 'Proposal closed', 'The proposal to move {listing} on {when} is no longer open.'),
    ('reschedule.proposed', 'New time proposed', '{other} proposes to move {listing} on {when} to {times}{message}.'),
    ('reschedule.requested', 'Please choose another time', '{other} asks you to choose another time for {listing} on {when}{message}; or cancel it, at no cost. {next}'),
    ('reschedule.withdrawn', 'Proposal withdrawn', '{other} withdrew the proposal to move {listing} on {when}.'),
    ('review.created', 'New review', 'A mentee rated your session {rating}/5.'),
    ('seat.released', 'A seat was given up', '{other} left {listing} on {when}{reason}.'),
    ('seat.taken.mentee', 'You have a seat', 'Your seat in {listing} on {when} is booked.'),
    ('seat.taken.mentor', 'A seat was taken', '{other} joined {listing} on {when}.'),
    ('series.accepted', 'Series accepted', '{other} accepted {count} meeting of {listing} {every} from {when}{skipped}.'),
    ('series.accepted', 'Series accepted', '{other} accepted {count} meetings of {listing} {every} from {when}{skipped}.'),
    ('series.cancelled', 'Series cancelled', '{other} cancelled the meetings of {listing} from {since} on{reason}.'),
    ('series.declined', 'Series declined', '{other} declined your series of {listing} from {when}{reason}.'),
    ('series.instant.mentee', 'Series booked', 'Your {count} meeting of {listing} {every} from {when} is confirmed{skipped}.'),
    ('series.instant.mentee', 'Series booked', 'Your {count} meetings of {listing} {every} from {when} are confirmed{skipped}.'),
    ('series.instant.mentor', 'New series booked', '{other} booked {count} meeting of {listing} {every} from {when}{skipped}.'),
    ('series.instant.mentor', 'New series booked', '{other} booked {count} meetings of {listing} {every} from {when}{skipped}.'),
    ('series.requested', 'New series request', '{other} asks for {listing} {every}, {count} time from {when}.'),
    ('series.requested', 'New series request', '{other} asks for {listing} {every}, {count} times from {when}.'),
    ('series.withdrawn', 'Series request withdrawn', '{other} withdrew the series request for {listing} from {when}.'),
    ('session.cancelled', 'Session cancelled', '{listing} with {other} on {when} was cancelled{reason}.'),
    ('session.completed.mentee', 'Session completed', '{listing} with {other} on {when} is complete: you can review it now.'),
    ('session.completed.mentor', 'Session completed', '{listing} with {other} on {when} is complete.'),
    ('session.missed', 'Session missed', '{listing} with {other} on {when} was never started.'),
    ('session.reminder', 'Reminder: {title}', 'Your session {listing} starts in {left}, at {when}.'),
    ('session.updated', 'Session details changed', '{other} changed the meeting link or agenda of {listing} on {when}.'),
    ('team.accepted', 'Team invitation accepted', '{name} accepted your invitation to teach {listing}.'),
    ('team.declined', 'Team invitation declined', '{name} declined your invitation to teach {listing}.'),
    ('team.invited', 'You are invited to teach a listing', '{owner} invited you to teach {listing}. Accept or decline the invitation; until you accept, no request comes to you from it.'),
    ('team.left', 'A mentor left your team', 'A mentor left the team of {listing}; requests no longer go to them.'),
    ('waitlist.expired', 'Waitlist place ended', 'Your place in line for {listing} on {when} ended without a seat{reason}.'),
    ('waitlist.offered', 'A seat is free for you', 'A seat in {listing} on {when} is held for you until {until}: take it from the listing, or it goes to the next in line.'),
    ('waitlist.promoted', 'You have a seat', 'You moved up from the waitlist: your seat in {listing} on {when} is booked.'),
    ('webhook.endpoint_disabled', 'Webhook endpoint disabled', 'Deliveries to {url} have stopped: {reason}. Fix it, then re-enable the endpoint.'),
]


def upgrade() -> None:
    op.add_column('notifications', sa.Column('message', sa.String(length=120), nullable=True))
    op.alter_column('notifications', 'title', existing_type=sa.String(length=200), nullable=True)
    op.alter_column('notifications', 'body', existing_type=sa.Text(), nullable=True)
    keyed = sa.table('keyed', sa.column('key', sa.String), sa.column('title', sa.String), sa.column('body', sa.Text))
    values = sa.values(keyed.c.key, keyed.c.title, keyed.c.body, name='keyed').data(KEYED)
    notifications = sa.table('notifications', sa.column('message', sa.String), sa.column('title', sa.String),
                             sa.column('body', sa.Text))
    # One pass over the table: each row whose title and body are a key's English gets its key, and keeps no words
    # of one language.
    op.execute(notifications.update()
               .where(notifications.c.title == values.c.title, notifications.c.body == values.c.body)
               .values(message=values.c.key, title=None, body=None))
    op.create_check_constraint('said', 'notifications',
                               'message IS NOT NULL OR (title IS NOT NULL AND body IS NOT NULL)')


def downgrade() -> None:
    op.drop_constraint('ck_notifications_said', 'notifications', type_='check')
    # A keyed row reads its key until it is read again by a version that knows it.
    op.execute("UPDATE notifications SET title = message, body = '' WHERE message IS NOT NULL")
    op.alter_column('notifications', 'body', existing_type=sa.Text(), nullable=False)
    op.alter_column('notifications', 'title', existing_type=sa.String(length=200), nullable=False)
    op.drop_column('notifications', 'message')
