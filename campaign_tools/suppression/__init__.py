"""Suppression lists: the recipients pinrec must not send to again (permanent bounces, complaints, unsubscribes, SMS
opt-outs, and what the providers' own lists hold), consulted before every message. One module per list kind
(see base.py), one registry."""
