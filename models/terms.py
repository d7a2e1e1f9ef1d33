"""The terms and windows of the centre's rules, each defined once.

Every page, workflow, report, scheduler job and seed that speaks of «six
months», «ends within 30 days» or «the offer holds for 3 days» reads the number
here, so the words on a page and the figure beside them cannot disagree. The
migrations keep the values they were written with (a migration never follows
a later change of a term: a new migration does).
"""

from __future__ import annotations

# A support case lasts at most six calendar months from its start (seed 001); the
# database holds it too (CHECK six_months on support_case).
SUPPORT_TERM_MONTHS = 6
# The same in words, as the refusals say it: «не больше шести месяцев».
SUPPORT_TERM_IN_WORDS = "шести месяцев"

# Warnings before a case's planned end, in days, widest first. The board counts all
# three; the home page and the pilot report warn at the widest; the scheduler gives the
# lead worker the task «sum up and close the case» at the middle one.
CASE_END_WINDOWS = (30, 14, 7)
CASE_END_WARNING_DAYS = CASE_END_WINDOWS[0]
CASE_END_NOTICE_DAYS = CASE_END_WINDOWS[1]

# A partner agreement «expires soon» within this many days of its end.
AGREEMENT_EXPIRY_WARNING_DAYS = 30

# Monitoring (мониторинг) of an active case: every this many months, by default.
REVIEW_INTERVAL_MONTHS = 1

# How long an offer holds a unit for the family at the head of the queue: from the day
# the family was told (the message delivered, the call recorded); for a family that
# receives no messages, from the offer itself.
OFFER_DAYS = 3
# An offer whose message is still not delivered this many days after its OFFER_DAYS
# passes to the next family all the same (nobody reached them).
OFFER_DELIVERY_GRACE_DAYS = 4
# How long the district worker has to reach a family that is late with a return.
OVERDUE_TASK_DAYS = 3
# The extension a clerk is offered first, in days; never more than the type's loan term,
# which is the most one extension may add.
LOAN_EXTENSION_DEFAULT_DAYS = 30

# An open task is «due soon» within this many days (the workload report).
DUE_SOON_DAYS = 7

# Majority: a person is a child until eighteen.
ADULT_AGE_MONTHS = 18 * 12

# What a user typed into a form when their session had ended is kept this long for them
# to sign in again and find it in the form (models/drafts.py); the tick removes it after.
FORM_DRAFT_HOURS = 24
# An outgoing referral (направление, межведомственный запрос): the answer term the page
# offers when it is sent, and how long the lead worker has to chase an answer overdue.
REFERRAL_ANSWER_DAYS = 14
REFERRAL_OVERDUE_TASK_DAYS = 3
# A council decision: the «by when» its page offers, counted from the meeting.
COUNCIL_DECISION_DAYS = 14
# The largest document file accepted (a scan of a few pages), and the same as the
# refusal says it.
DOCUMENT_MAX_BYTES = 20 * 1024 * 1024
DOCUMENT_MAX_IN_WORDS = "20 МБ"
# Messages to families (the outbox, workflows/notify.py).
# A loan's holder is reminded this many days before its due date.
LOAN_DUE_NOTICE_DAYS = 3
# No SMS or e-mail is sent from QUIET_FROM to QUIET_UNTIL o'clock, the centre's time:
# a message due then waits for the morning.
QUIET_FROM = 21
QUIET_UNTIL = 9
# The eve of an appointment: the reminder goes out at this hour the day before.
APPOINTMENT_EVE_HOUR = 10
# Delivery: a failed attempt is retried after RETRY_FIRST_MINUTES, then twice as long
# each time; after MESSAGE_MAX_ATTEMPTS attempts the message is given up.
RETRY_FIRST_MINUTES = 5
MESSAGE_MAX_ATTEMPTS = 5
# A call not got through is tried again the next working day, at most this many days.
CALL_MAX_ATTEMPTS = 3
# The child's ИПРА: the lead worker gets a task, and the family a message, this many days
# before the ИПРА's end and before the МСЭ re-examination date (the person's field).
IPRA_NOTICE_DAYS = 30
