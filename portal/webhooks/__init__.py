"""Webhooks: admins register endpoints; request events are queued in the changing transaction
(outbox pattern) and delivered later, signed, by the `deliver_webhooks` job."""
